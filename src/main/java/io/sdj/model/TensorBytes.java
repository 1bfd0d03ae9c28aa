package io.sdj.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Helpers the tensor readers share: positional reads into a segment, and float views of stored bytes. */
final class TensorBytes {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorBytes() {
    }

    /** Fails unless {@code dst} has exactly the tensor's byte size. */
    static void checkDestination(TensorInfo t, MemorySegment dst) {
        if (dst.byteSize() != t.byteSize()) {
            throw new IllegalArgumentException(t.name() + ": destination has " + dst.byteSize()
                    + " bytes, the tensor " + t.byteSize());
        }
    }

    /** Fills {@code dst} from the file at {@code position} with positional reads (no mapping). */
    static void readFully(FileChannel ch, long position, MemorySegment dst, Path path, String tensor) {
        try {
            ByteBuffer bb = dst.asByteBuffer();
            long pos = position;
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos);
                if (n < 0) {
                    throw new ModelFormatException(path, tensor, "the file ends inside this tensor's data");
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new ModelFormatException(path, tensor, "cannot read its data: " + e.getMessage(), e);
        }
    }

    /** Fails unless a tensor is small enough to copy into a Java array. */
    static int arrayLength(Path path, TensorInfo t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(path, t.name(), "has " + n + " elements, too many to copy into a float[]");
        }
        return (int) n;
    }

    /** An F32, F16 or BF16 tensor's stored bytes as floats. */
    static float[] toFloats(Path path, TensorInfo t, MemorySegment seg) {
        float[] out = new float[arrayLength(path, t)];
        switch (t.dtype()) {
            case F32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = seg.getAtIndex(LE_FLOAT, i);
                }
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(seg.getAtIndex(LE_SHORT, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((seg.getAtIndex(LE_SHORT, i) & 0xffff) << 16);
                }
            }
            default -> throw new ModelFormatException(path, t.name(), "has dtype " + t.dtype()
                    + "; only F32, F16 and BF16 tensors can be read as floats");
        }
        return out;
    }

    /** Reads a tensor through {@link TensorSource#read} and converts it with {@link #toFloats}. */
    static float[] readFloats(TensorSource source, TensorInfo t) {
        if (!t.dtype().isWeightType()) {
            throw new ModelFormatException(source.path(), t.name(), "has dtype " + t.dtype()
                    + "; only F32, F16 and BF16 tensors can be read as floats");
        }
        arrayLength(source.path(), t);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, t.byteSize()), 8).asSlice(0, t.byteSize());
            source.read(t, seg);
            return toFloats(source.path(), t, seg);
        }
    }
}
