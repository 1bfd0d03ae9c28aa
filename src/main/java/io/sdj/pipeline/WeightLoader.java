package io.sdj.pipeline;

import io.sdj.family.WeightTypePolicy;
import io.sdj.model.Component;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.TypeConverter;
import io.sdj.runtime.WeightStore;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streams weights from a {@link TensorSource} onto a backend, one tensor at a time: each tensor is read into a
 * native scratch buffer, converted to the type {@link WeightTypePolicy} picks with ggml's own conversion and
 * quantization (or copied as it is when the types agree, quantized GGUF blocks included), and copied to the
 * backend. Neither Java heap nor native memory grows with the model size beyond the weights themselves.
 */
final class WeightLoader {
    /** Told after each tensor. */
    interface LoadProgress {
        void loaded(int done, int total);
    }

    private WeightLoader() {
    }

    /**
     * Loads the named tensors into one store on the backend.
     *
     * @param names      the tensors to load (each must be in the source)
     * @param components the components the names belong to (for the type policy's local names)
     * @param progress   called with the number of tensors loaded so far
     */
    static WeightStore load(TensorSource source, Collection<String> names, List<Component> components,
                            Backend backend, WeightTypePolicy policy, String label, LoadProgress progress) {
        Map<String, TensorInfo> chosen = new LinkedHashMap<>();
        for (String n : names) {
            TensorInfo t = source.tensors().get(n);
            if (t == null) {
                throw new ModelFormatException(source.path(), n, "missing");
            }
            chosen.put(n, t);
        }
        WeightStore store = new WeightStore(label, chosen.size());
        try {
            Map<String, GgmlType> types = new LinkedHashMap<>();
            for (TensorInfo t : chosen.values()) {
                GgmlType type = policy.typeOf(source.path(), t, localName(t.name(), components));
                types.put(t.name(), type);
                store.create(t.name(), type, ggmlShape(t.shape()));
            }
            store.allocate(backend);
            int done = 0;
            for (TensorInfo t : chosen.values()) {
                Tensor dst = store.get(t.name());
                long[] ne = ggmlShape(t.shape());
                long rowLength = ne[0];
                long rows = t.elementCount() / rowLength;
                GgmlType from = GgmlType.valueOf(t.dtype().name());
                GgmlType to = types.get(t.name());
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment src = scratch.allocate(t.byteSize(), 64);
                    source.read(t, src);
                    if (from == to) {
                        dst.write(src, 0);
                    } else {
                        MemorySegment converted = scratch.allocate(to.rowBytes(rowLength) * rows, 64);
                        TypeConverter.convert(src, from, converted, to, rows, rowLength, scratch);
                        dst.write(converted, 0);
                    }
                }
                progress.loaded(++done, chosen.size());
            }
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static String localName(String name, List<Component> components) {
        for (Component c : components) {
            if (c.owns(name)) {
                return c.local(name);
            }
        }
        return name;
    }

    /** Row-major (outermost first) to ggml order (innermost first). */
    static long[] ggmlShape(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }
}
