package io.sdj.pipeline;

import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.TypeConverter;
import io.sdj.runtime.WeightStore;

import java.lang.foreign.Arena;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streams weights from a safetensors file onto a backend, one tensor at a time: each tensor is read into a native
 * scratch buffer (not through the file mapping, so the checkpoint's pages do not add to the process's resident
 * memory), converted to the type {@link WeightTypePolicy} picks with ggml's own conversion and quantization, and
 * copied to the backend. Neither Java heap nor native memory grows with the model size beyond the weights themselves.
 */
final class WeightLoader {
    /** Told after each tensor. */
    interface LoadProgress {
        void loaded(int done, int total);
    }

    private WeightLoader() {
    }

    /**
     * Loads the tensors whose names start with one of {@code prefixes} into one store on the backend.
     *
     * @param progress called with the number of tensors loaded so far
     */
    static WeightStore load(SafetensorsFile file, List<String> prefixes, Backend backend, WeightTypePolicy policy,
                            String label, LoadProgress progress) {
        Map<String, TensorInfo> chosen = new LinkedHashMap<>();
        for (TensorInfo t : file.tensors().values()) {
            if (prefixes.stream().anyMatch(p -> t.name().startsWith(p)) && WeightTypePolicy.isWeight(t)
                    && !t.name().endsWith("position_ids")) {
                chosen.put(t.name(), t);
            }
        }
        WeightStore store = new WeightStore(label, chosen.size());
        try {
            Map<String, GgmlType> types = new LinkedHashMap<>();
            for (TensorInfo t : chosen.values()) {
                GgmlType type = policy.typeOf(file.path(), t, localName(t.name(), prefixes));
                types.put(t.name(), type);
                store.create(t.name(), type, ggmlShape(t.shape()));
            }
            store.allocate(backend);
            int done = 0;
            try (FileChannel channel = FileChannel.open(file.path(), StandardOpenOption.READ)) {
                for (TensorInfo t : chosen.values()) {
                    Tensor dst = store.get(t.name());
                    long[] ne = ggmlShape(t.shape());
                    long rowLength = ne[0];
                    long rows = t.elementCount() / rowLength;
                    GgmlType from = GgmlType.valueOf(t.dtype().name());
                    GgmlType to = types.get(t.name());
                    try (Arena scratch = Arena.ofConfined()) {
                        MemorySegment src = read(channel, file, t, scratch);
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
            } catch (IOException e) {
                throw new ModelFormatException(file.path(), "cannot read its tensor data: " + e.getMessage());
            }
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Reads one tensor's bytes (at its absolute file offset) into a scratch segment. */
    private static MemorySegment read(FileChannel channel, SafetensorsFile file, TensorInfo t, Arena scratch)
            throws IOException {
        MemorySegment buf = scratch.allocate(t.byteSize(), 64);
        ByteBuffer bb = buf.asByteBuffer();
        long pos = t.offset();
        while (bb.hasRemaining()) {
            int n = channel.read(bb, pos);
            if (n < 0) {
                throw new ModelFormatException(file.path(), t.name(), "the file ends inside this tensor's data");
            }
            pos += n;
        }
        return buf;
    }

    private static String localName(String name, List<String> prefixes) {
        for (String p : prefixes) {
            if (name.startsWith(p)) {
                return name.substring(p.length());
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
