package io.sdj.model;

import io.sdj.InvalidParameterException;
import io.sdj.SdjException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF version 3 file as ggml's own writer lays it out: header, key/values, tensor infos (dims innermost
 * first, trailing dims of 1 dropped as ggml_n_dims does), zero padding to the alignment, then each tensor's data
 * padded to the alignment. Tensor data is produced one tensor at a time by a {@link Content} callback while the file
 * is written, so a large model never has to be held in memory.
 */
public final class GgufWriter {

    /** Produces one tensor's stored bytes. */
    @FunctionalInterface
    public interface Content {
        /** Fills {@code dst} (exactly the tensor's byte size, 64-byte aligned, zeroed). */
        void write(MemorySegment dst);
    }

    private record Entry(String name, DType type, long[] ne, long bytes, Content content) {
    }

    private final Map<String, byte[]> kv = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Sets the alignment (a power of two) and records it as {@code general.alignment} unless it is the default. */
    public GgufWriter alignment(int bytes) {
        if (bytes <= 0 || (bytes & (bytes - 1)) != 0 || bytes > GgufFile.MAX_ALIGNMENT) {
            throw new InvalidParameterException("alignment", "must be a power of two up to "
                    + GgufFile.MAX_ALIGNMENT + ", got " + bytes);
        }
        alignment = bytes;
        if (bytes == GgufFile.DEFAULT_ALIGNMENT) {
            kv.remove(GgufFile.ALIGNMENT_KEY);
        } else {
            kv.put(GgufFile.ALIGNMENT_KEY, value(GgufFile.T_UINT32, 4).putInt(bytes).array());
        }
        return this;
    }

    /** Adds a string key/value. */
    public GgufWriter putString(String key, String value) {
        byte[] s = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = value(GgufFile.T_STRING, 8 + s.length);
        b.putLong(s.length).put(s);
        return put(key, b.array());
    }

    /** Adds a uint32 key/value. */
    public GgufWriter putU32(String key, int value) {
        return put(key, value(GgufFile.T_UINT32, 4).putInt(value).array());
    }

    /** Adds an int32 key/value. */
    public GgufWriter putI32(String key, int value) {
        return put(key, value(GgufFile.T_INT32, 4).putInt(value).array());
    }

    /** Adds a float32 key/value. */
    public GgufWriter putF32(String key, float value) {
        return put(key, value(GgufFile.T_FLOAT32, 4).putFloat(value).array());
    }

    /** Adds a bool key/value. */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, value(GgufFile.T_BOOL, 1).put((byte) (value ? 1 : 0)).array());
    }

    private GgufWriter put(String key, byte[] typedValue) {
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            throw new InvalidParameterException("key", GgufFile.ALIGNMENT_KEY + " is set with alignment(int)");
        }
        if (key.isEmpty()) {
            throw new InvalidParameterException("key", "must not be empty");
        }
        kv.put(key, typedValue);
        return this;
    }

    private static ByteBuffer value(int type, int payload) {
        return ByteBuffer.allocate(4 + payload).order(ByteOrder.LITTLE_ENDIAN).putInt(type);
    }

    /**
     * Adds a tensor.
     *
     * @param shape outermost first (as {@link TensorInfo}); at most 4 dimensions
     * @throws InvalidParameterException for a repeated or empty name, a type ggml lacks, more than 4 dimensions, or
     *                                   a row that is not a whole number of the type's blocks
     */
    public GgufWriter add(String name, DType type, long[] shape, Content content) {
        if (name.isEmpty()) {
            throw new InvalidParameterException("name", "a tensor name must not be empty");
        }
        if (names.contains(name)) {
            throw new InvalidParameterException("name", "tensor '" + name + "' was already added");
        }
        if (!type.hasGgmlType()) {
            throw new InvalidParameterException("type", "tensor '" + name + "': GGUF cannot store " + type
                    + "; supported: " + DType.ggmlNames());
        }
        if (shape.length > GgufFile.MAX_DIMS) {
            throw new InvalidParameterException("shape", "tensor '" + name + "' has " + shape.length
                    + " dimensions, GGUF allows at most " + GgufFile.MAX_DIMS);
        }
        long bytes = bytes(name, type, shape);
        names.add(name);
        entries.add(new Entry(name, type, ggmlDims(shape), bytes, content));
        return this;
    }

    private static long bytes(String name, DType type, long[] shape) {
        try {
            return type.storageBytes(shape);
        } catch (IllegalArgumentException | ArithmeticException | IllegalStateException e) {
            throw new InvalidParameterException("shape", "tensor '" + name + "' " + TensorInfo.formatShape(shape)
                    + " cannot be stored as " + type + ": " + e.getMessage());
        }
    }

    /** Adds a tensor from its stored bytes. */
    public GgufWriter add(String name, DType type, long[] shape, byte[] data) {
        long need = bytes(name, type, shape);
        if (need != data.length) {
            throw new InvalidParameterException("data", "tensor '" + name + "' " + TensorInfo.formatShape(shape) + " "
                    + type + " needs " + need + " bytes, got " + data.length);
        }
        return add(name, type, shape, dst -> MemorySegment.copy(MemorySegment.ofArray(data), 0, dst, 0, data.length));
    }

    /** ggml's dims for a row-major shape: reversed, trailing 1s dropped (ggml_n_dims), at least one. */
    static long[] ggmlDims(long[] shape) {
        int n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[shape.length - 1 - i] != 1) {
                n = Math.max(n, i + 1);
            }
        }
        long[] ne = new long[n];
        for (int i = 0; i < n; i++) {
            ne[i] = i < shape.length ? shape[shape.length - 1 - i] : 1;
        }
        return ne;
    }

    /** Number of tensors added so far. */
    public int size() {
        return entries.size();
    }

    private long pad(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private byte[] header() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(GgufFile.MAGIC).putInt(3).putLong(entries.size()).putLong(kv.size());
        out.writeBytes(b.array());
        for (Map.Entry<String, byte[]> e : kv.entrySet()) {
            writeString(out, e.getKey());
            out.writeBytes(e.getValue());
        }
        long offset = 0;
        for (Entry e : entries) {
            writeString(out, e.name);
            ByteBuffer t = ByteBuffer.allocate(4 + 8 * e.ne.length + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
            t.putInt(e.ne.length);
            for (long d : e.ne) {
                t.putLong(d);
            }
            t.putInt(e.type.ggmlId()).putLong(offset);
            out.writeBytes(t.array());
            offset += pad(e.bytes);
        }
        int padded = Math.toIntExact(pad(out.size()));
        out.writeBytes(new byte[padded - out.size()]);
        return out.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(b.length).array());
        out.writeBytes(b);
    }

    /**
     * Writes the file, replacing any existing one; a partly written file is deleted when a tensor's content fails.
     *
     * @return the file size in bytes
     */
    public long write(Path file) {
        boolean done = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header()));
            for (Entry e : entries) {
                try (Arena arena = Arena.ofConfined()) {
                    long padded = pad(e.bytes);
                    MemorySegment seg = arena.allocate(Math.max(1, padded), 64);
                    e.content.write(seg.asSlice(0, e.bytes));
                    writeFully(ch, seg.asSlice(0, padded).asByteBuffer());
                }
            }
            done = true;
            return ch.size();
        } catch (IOException e) {
            throw new SdjException(file + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the original failure is what matters
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
