package io.sdj.model.pickle;

import io.sdj.model.DType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The values the restricted unpickler builds. Python None is Java null; bool, int, float, str and bytes are
 * Boolean, Long (or BigInteger), Double, String and byte[]. Containers are the classes here: they compare by
 * identity (lists, dicts and sets) or, for tuples, by their (immutable, depth-limited) items, so that no operation
 * on them recurses without bound.
 */
public final class Py {
    private Py() {
    }

    /** A Python tuple; immutable. */
    public static final class Tuple {
        private final List<Object> items;
        private final int depth;
        private final int hash;

        Tuple(List<Object> items, int depth) {
            this.items = List.copyOf(nullSafe(items));
            this.depth = depth;
            this.hash = items.hashCode();
        }

        private static List<Object> nullSafe(List<Object> items) {
            List<Object> out = new ArrayList<>(items.size());
            for (Object o : items) {
                out.add(o == null ? NoneKey.NONE : o);
            }
            return out;
        }

        /** The items (None as null). */
        public List<Object> items() {
            List<Object> out = new ArrayList<>(items.size());
            for (Object o : items) {
                out.add(o == NoneKey.NONE ? null : o);
            }
            return Collections.unmodifiableList(out);
        }

        public int size() {
            return items.size();
        }

        public Object get(int i) {
            Object o = items.get(i);
            return o == NoneKey.NONE ? null : o;
        }

        int depth() {
            return depth;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tuple t && hash == t.hash && items.equals(t.items);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return "tuple(" + items.size() + ")";
        }
    }

    /** Stands for None inside immutable collections. */
    private enum NoneKey {
        NONE
    }

    /** A Python list. */
    public static final class PyList {
        final List<Object> items = new ArrayList<>();

        public List<Object> items() {
            return Collections.unmodifiableList(items);
        }

        @Override
        public String toString() {
            return "list(" + items.size() + ")";
        }
    }

    /** A Python dict or collections.OrderedDict, in insertion order; keys are hashable scalars or tuples. */
    public static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();

        public Map<Object, Object> items() {
            return Collections.unmodifiableMap(items);
        }

        public Object get(Object key) {
            return items.get(key);
        }

        @Override
        public String toString() {
            return "dict(" + items.size() + ")";
        }
    }

    /** A Python set or frozenset. */
    public static final class PySet {
        final Set<Object> items = new LinkedHashSet<>();

        public Set<Object> items() {
            return Collections.unmodifiableSet(items);
        }

        @Override
        public String toString() {
            return "set(" + items.size() + ")";
        }
    }

    /** An allowed global, as a value (before it is called, or as a storage type tag). */
    public record Global(String module, String name) {
        public String qualified() {
            return module + "." + name;
        }

        @Override
        public String toString() {
            return qualified();
        }
    }

    /**
     * A tensor storage from the pickle's persistent ids: its element type, key (the zip entry or legacy record
     * name), device location, element count, and for legacy views the element offset into the root storage.
     */
    public record StorageRef(DType dtype, String key, String location, long numel, long viewOffset) {
    }

    /** A tensor rebuilt by torch._utils._rebuild_tensor(_v2): a view of a storage (sizes and strides in elements). */
    public record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride) {
        public TensorRef {
            size = size.clone();
            stride = stride.clone();
        }

        @Override
        public long[] size() {
            return size.clone();
        }

        @Override
        public long[] stride() {
            return stride.clone();
        }
    }
}
