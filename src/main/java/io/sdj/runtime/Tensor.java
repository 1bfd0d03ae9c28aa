package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A handle to a ggml tensor owned by a {@link Graph} or a {@link WeightStore}. Shapes follow ggml's order:
 * {@code ne(0)} is the fastest-varying (innermost) dimension. Using a tensor after its owner was closed throws
 * {@link IllegalStateException}.
 */
public final class Tensor {
    private final MemorySegment struct;
    private final TensorOwner owner;

    Tensor(MemorySegment ptr, TensorOwner owner) {
        if (ptr.equals(MemorySegment.NULL)) {
            throw new GgmlException("ggml returned no tensor (its context is out of memory?) in " + owner.describe());
        }
        this.struct = ptr.reinterpret(ggml_tensor.sizeof());
        this.owner = owner;
    }

    MemorySegment ptr() {
        if (!owner.isOpen()) {
            // not its name: that lives in the freed context's memory
            throw new IllegalStateException("a tensor was used after " + owner.describe() + " was closed");
        }
        return struct;
    }

    TensorOwner owner() {
        return owner;
    }

    /** Size of dimension {@code i} (0 = innermost), 1 beyond the tensor's rank. */
    public long ne(int i) {
        return ggml_tensor.ne(ptr(), i);
    }

    /** All four ggml dimensions, innermost first. */
    public long[] ne() {
        MemorySegment s = ptr();
        return new long[]{ggml_tensor.ne(s, 0), ggml_tensor.ne(s, 1), ggml_tensor.ne(s, 2), ggml_tensor.ne(s, 3)};
    }

    /** Byte stride of dimension {@code i}. */
    public long nb(int i) {
        return ggml_tensor.nb(ptr(), i);
    }

    public GgmlType type() {
        return GgmlType.ofId(ggml_tensor.type(ptr()));
    }

    public long elementCount() {
        return ggml_h.ggml_nelements(ptr());
    }

    public long byteSize() {
        return ggml_h.ggml_nbytes(ptr());
    }

    /** Whether the data is laid out without gaps in ggml's order. */
    public boolean isContiguous() {
        return ggml_h.ggml_is_contiguous(ptr());
    }

    public String name() {
        ptr();
        return rawName();
    }

    private String rawName() {
        return struct.asSlice(ggml_tensor.name$offset(), 64).getString(0);
    }

    /** Sets ggml's name of the tensor (at most 63 bytes are kept). */
    public Tensor name(String name) {
        try (Arena a = Arena.ofConfined()) {
            ggml_h.ggml_set_name(ptr(), a.allocateFrom(name));
        }
        return this;
    }

    /** Whether the tensor has memory on a backend yet (weights after allocation, graph tensors after compile). */
    public boolean hasData() {
        MemorySegment s = ptr();
        return !ggml_tensor.buffer(s).equals(MemorySegment.NULL) || !ggml_tensor.data(s).equals(MemorySegment.NULL);
    }

    // --- data transfer ------------------------------------------------------------------------------------------

    /** Copies raw bytes (already in this tensor's type and layout) into the tensor at a byte offset. */
    public void write(MemorySegment src, long offset) {
        MemorySegment p = ptr();
        checkData();
        if (offset < 0 || offset + src.byteSize() > byteSize()) {
            throw new GgmlException("writing " + src.byteSize() + " bytes at " + offset + " overflows tensor '"
                    + rawName() + "' of " + byteSize() + " bytes");
        }
        ggml_h.ggml_backend_tensor_set(p, src, offset, src.byteSize());
    }

    /** Copies the whole tensor's bytes out into {@code dst} (which must have exactly {@link #byteSize()} bytes). */
    public void read(MemorySegment dst) {
        MemorySegment p = ptr();
        checkData();
        if (dst.byteSize() != byteSize()) {
            throw new GgmlException("reading tensor '" + rawName() + "' needs " + byteSize() + " bytes, got " + dst.byteSize());
        }
        ggml_h.ggml_backend_tensor_get(p, dst, 0, dst.byteSize());
    }

    /** Writes float values into an F32 or F16 tensor (converted for F16). */
    public void setFloats(float[] values) {
        checkCount(values.length);
        try (Arena a = Arena.ofConfined()) {
            switch (type()) {
                case F32 -> write(a.allocateFrom(ValueLayout.JAVA_FLOAT, values), 0);
                case F16 -> {
                    MemorySegment m = a.allocate(2L * values.length, 2);
                    for (int i = 0; i < values.length; i++) {
                        m.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
                    }
                    write(m, 0);
                }
                default -> throw new GgmlException("setFloats needs an F32 or F16 tensor; '" + rawName() + "' is " + type());
            }
        }
    }

    /** Writes int values into an I32 tensor. */
    public void setInts(int[] values) {
        checkCount(values.length);
        if (type() != GgmlType.I32) {
            throw new GgmlException("setInts needs an I32 tensor; '" + rawName() + "' is " + type());
        }
        try (Arena a = Arena.ofConfined()) {
            write(a.allocateFrom(ValueLayout.JAVA_INT, values), 0);
        }
    }

    /** Reads an F32 or F16 tensor as floats (in ggml's element order, innermost first). */
    public float[] getFloats() {
        int n = Math.toIntExact(elementCount());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(byteSize(), 8);
            read(m);
            return switch (type()) {
                case F32 -> m.toArray(ValueLayout.JAVA_FLOAT);
                case F16 -> {
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) {
                        f[i] = Float.float16ToFloat(m.getAtIndex(ValueLayout.JAVA_SHORT, i));
                    }
                    yield f;
                }
                default -> throw new GgmlException("getFloats needs an F32 or F16 tensor; '" + rawName() + "' is " + type());
            };
        }
    }

    private void checkCount(long n) {
        if (n != elementCount()) {
            throw new GgmlException("tensor '" + rawName() + "' " + Arrays.toString(ne()) + " has " + elementCount()
                    + " elements, got " + n + " values");
        }
    }

    private void checkData() {
        if (!hasData()) {
            throw new IllegalStateException("tensor '" + rawName() + "' has no memory yet: allocate its "
                    + owner.describe() + " first (WeightStore.allocate / Graph.compile)");
        }
    }

    @Override
    public String toString() {
        if (!owner.isOpen()) {
            return "Tensor[closed]";
        }
        return "Tensor[" + rawName() + " " + type() + " " + Arrays.toString(ne()) + "]";
    }
}
