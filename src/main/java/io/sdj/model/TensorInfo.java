package io.sdj.model;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors file.
 *
 * @param name     the tensor name as in the header
 * @param dtype    the element type
 * @param shape    the dimensions, outermost first (row-major, as PyTorch writes them); empty for a scalar
 * @param offset   absolute byte offset of the first element in the file (header length and header included)
 * @param byteSize number of data bytes (elements × dtype size)
 */
public record TensorInfo(String name, DType dtype, long[] shape, long offset, long byteSize) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i}, outermost first. */
    public long dim(int i) {
        return shape[i];
    }

    /** Product of the dimensions (1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** True when the shape equals {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The shape written as "[320, 4, 3, 3]". */
    public String shapeString() {
        return formatShape(shape);
    }

    /** Writes a shape as "[a, b, c]". */
    public static String formatShape(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && offset == t.offset
                && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31
                + Long.hashCode(offset) * 17 + Long.hashCode(byteSize);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " @" + offset + " (" + byteSize + " bytes)";
    }
}
