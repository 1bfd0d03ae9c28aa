package io.sdj.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link TensorSource} over several: every tensor it offers is taken from one of its parts under a new name
 * (the LDM single-file name), either as stored, reshaped (same bytes), with rows of several tensors concatenated
 * (q/k/v fused into one projection), or transposed (a linear weight used as a matrix). A diffusers folder and
 * separate component files are composites; family detection, validation and loading see one checkpoint.
 *
 * <p>{@link #path()} is the one path messages about the whole model name (the folder, or the main file); a read that
 * fails names the part's own file and tensor. Two parts offering the same name are refused when the composite is
 * built, naming both files. The composite owns and closes the parts it was given with {@link Builder#own}.
 */
public final class CompositeSource implements TensorSource {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** How an offered tensor is made from the parts' stored tensors. */
    private sealed interface Recipe {
        TensorSource source();
    }

    /** The stored bytes as they are; the offered shape may differ, the element count may not. */
    private record Copy(TensorSource source, TensorInfo from) implements Recipe {
    }

    /** The stored tensors' rows one after the other (all of one type and row shape). */
    private record ConcatRows(TensorSource source, List<TensorInfo> from) implements Recipe {
    }

    /** A 2-D F32/F16/BF16 tensor transposed. */
    private record Transpose(TensorSource source, TensorInfo from) implements Recipe {
    }

    /**
     * An F32 identity matrix [n, n]: stands for a projection a family's layout lists but never applies (SD 2.x's
     * OpenCLIP text_projection, which transformers' plain CLIPTextModel does not have).
     */
    private record Identity(TensorSource source, int n) implements Recipe {
    }

    private record Entry(TensorInfo info, Recipe recipe) {
    }

    private final Path path;
    private final List<Entry> entries;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final List<TensorSource> owned;
    private volatile boolean closed;

    private CompositeSource(Builder b) {
        this.path = b.path;
        this.entries = List.copyOf(b.entries.values());
        Map<String, TensorInfo> t = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            TensorInfo e = entries.get(i).info();
            TensorInfo indexed = new TensorInfo(e.name(), e.dtype(), e.shape(), i, e.byteSize());
            t.put(e.name(), indexed);
        }
        this.tensors = Collections.unmodifiableMap(t);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
        this.owned = List.copyOf(b.owned);
    }

    /** A builder for a composite whose messages name {@code path}. */
    public static Builder builder(Path path) {
        return new Builder(path);
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file of the part that holds a tensor (for messages); {@link #path()} when it is not here. */
    public Path fileOf(String name) {
        TensorInfo t = tensors.get(name);
        return t == null ? path : entries.get((int) t.offset()).recipe().source().path();
    }

    /** A tensor copied as is from one part lies where that part stores it; any other recipe has no stored region. */
    @Override
    public java.util.Optional<StoredRegion> storedRegion(TensorInfo tensor) {
        TensorInfo mine = tensors.get(tensor.name());
        if (closed || mine == null || !mine.equals(tensor)
                || !(entries.get((int) mine.offset()).recipe() instanceof Copy c)
                || c.from().byteSize() != tensor.byteSize()) {
            return java.util.Optional.empty();
        }
        return c.source().storedRegion(c.from());
    }

    @Override
    public void read(TensorInfo tensor, MemorySegment dst) {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        TensorInfo mine = tensors.get(tensor.name());
        if (mine == null || !mine.equals(tensor)) {
            throw new IllegalArgumentException(tensor.name() + " is not a tensor of " + path);
        }
        TensorBytes.checkDestination(tensor, dst);
        switch (entries.get((int) mine.offset()).recipe()) {
            case Copy c -> c.source().read(c.from(), dst);
            case ConcatRows c -> {
                long at = 0;
                for (TensorInfo part : c.from()) {
                    c.source().read(part, dst.asSlice(at, part.byteSize()));
                    at += part.byteSize();
                }
            }
            case Transpose t -> transpose(t, dst);
            case Identity id -> {
                dst.fill((byte) 0);
                for (long i = 0; i < id.n(); i++) {
                    dst.set(LE_FLOAT, (i * id.n() + i) * 4, 1.0f);
                }
            }
        }
    }

    private static void transpose(Transpose t, MemorySegment dst) {
        TensorInfo from = t.from();
        long rows = from.dim(0);
        long cols = from.dim(1);
        int size = from.dtype().byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(Math.max(1, from.byteSize()), 8).asSlice(0, from.byteSize());
            t.source().read(from, src);
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    MemorySegment.copy(src, (r * cols + c) * size, dst, (c * rows + r) * size, size);
                }
            }
        }
    }

    @Override
    public float[] readFloats(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, name, "missing");
        }
        return TensorBytes.readFloats(this, t);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            RuntimeException first = null;
            for (TensorSource s : owned) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /** Collects the offered tensors; {@link #build()} hands the owned parts to the composite. */
    public static final class Builder {
        private final Path path;
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private final List<TensorSource> owned = new ArrayList<>();

        private Builder(Path path) {
            this.path = path;
        }

        /** A part the composite closes (and that this builder closes if building fails: {@link #abandon()}). */
        public Builder own(TensorSource part) {
            owned.add(part);
            return this;
        }

        /** The part's metadata, where no earlier part gave the key. */
        public Builder metadata(Map<String, String> m) {
            m.forEach(metadata::putIfAbsent);
            return this;
        }

        /** {@code from} offered as {@code name}, bytes as stored. */
        public Builder copy(String name, TensorSource source, TensorInfo from) {
            return add(new TensorInfo(name, from.dtype(), from.shape(), 0, from.byteSize()), new Copy(source, from));
        }

        /** {@code from} offered as {@code name} with another shape of the same element count (e.g. [c, c] → [c, c, 1, 1]). */
        public Builder reshape(String name, TensorSource source, TensorInfo from, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != from.elementCount()) {
                throw new ModelFormatException(source.path(), from.name(), "has shape " + from.shapeString()
                        + ", which cannot be viewed as " + TensorInfo.formatShape(shape) + " for '" + name + "'");
            }
            return add(new TensorInfo(name, from.dtype(), shape, 0, from.byteSize()), new Copy(source, from));
        }

        /**
         * The tensors' rows one after the other, offered as {@code name}: all of one type, with the same shape
         * after the first dimension (fused attention projections: q, k, v weights [c, c] → [3c, c], biases [c] → [3c]).
         */
        public Builder concatRows(String name, TensorSource source, List<TensorInfo> from) {
            TensorInfo first = from.getFirst();
            long rows = 0;
            long bytes = 0;
            for (TensorInfo t : from) {
                if (t.dtype() != first.dtype() || t.rank() != first.rank() || t.rank() == 0) {
                    throw new ModelFormatException(source.path(), t.name(), "cannot be fused into '" + name + "' with '"
                            + first.name() + "': " + t.dtype() + " " + t.shapeString() + " versus " + first.dtype()
                            + " " + first.shapeString());
                }
                for (int i = 1; i < t.rank(); i++) {
                    if (t.dim(i) != first.dim(i)) {
                        throw new ModelFormatException(source.path(), t.name(), "cannot be fused into '" + name
                                + "' with '" + first.name() + "': shapes " + t.shapeString() + " and " + first.shapeString());
                    }
                }
                rows += t.dim(0);
                bytes += t.byteSize();
            }
            long[] shape = first.shape();
            shape[0] = rows;
            return add(new TensorInfo(name, first.dtype(), shape, 0, bytes), new ConcatRows(source, List.copyOf(from)));
        }

        /** A 2-D F32/F16/BF16 tensor [a, b] offered transposed as {@code name} [b, a]. */
        public Builder transpose(String name, TensorSource source, TensorInfo from) {
            if (from.rank() != 2 || !LdmLayout.isFloat(from.dtype())) {
                throw new ModelFormatException(source.path(), from.name(), "expected a 2-D F32/F16/BF16 matrix to "
                        + "transpose into '" + name + "', found " + from.dtype() + " " + from.shapeString());
            }
            return add(new TensorInfo(name, from.dtype(), new long[]{from.dim(1), from.dim(0)}, 0, from.byteSize()),
                    new Transpose(source, from));
        }

        /** An F32 identity [n, n] offered as {@code name}, on behalf of {@code source} (see {@code Identity}). */
        public Builder identity(String name, TensorSource source, int n) {
            if (n <= 0 || n > 65536) {
                throw new ModelFormatException(source.path(), name, "an identity of width " + n + " is out of range");
            }
            return add(new TensorInfo(name, DType.F32, new long[]{n, n}, 0, 4L * n * n), new Identity(source, n));
        }

        private Builder add(TensorInfo info, Recipe recipe) {
            Entry before = entries.get(info.name());
            if (before != null) {
                throw new ModelFormatException(recipe.source().path(), info.name(), "is offered twice: also by "
                        + describe(before.recipe()) + (before.recipe().source() == recipe.source() ? "" : " in "
                        + before.recipe().source().path()) + " (" + path + ")");
            }
            entries.put(info.name(), new Entry(info, recipe));
            return this;
        }

        private static String describe(Recipe r) {
            return switch (r) {
                case Copy c -> "'" + c.from().name() + "'";
                case ConcatRows c -> "'" + c.from().getFirst().name() + "'…";
                case Transpose t -> "'" + t.from().name() + "'";
                case Identity id -> "an identity projection";
            };
        }

        /** True when a tensor of this name is offered so far. */
        public boolean contains(String name) {
            return entries.containsKey(name);
        }

        /** Removes every offered tensor whose name starts with {@code prefix} (a component given separately replaces it). */
        public int dropPrefix(String prefix) {
            int n = 0;
            for (Iterator<String> it = entries.keySet().iterator(); it.hasNext(); ) {
                if (it.next().startsWith(prefix)) {
                    it.remove();
                    n++;
                }
            }
            return n;
        }

        /** Closes the owned parts (when building fails part-way). */
        public void abandon() {
            for (TensorSource s : owned) {
                try {
                    s.close();
                } catch (RuntimeException ignored) {
                    // closing after a failure: the first error is the one to report
                }
            }
            owned.clear();
        }

        public CompositeSource build() {
            return new CompositeSource(this);
        }
    }
}
