package io.sdj.model;

import java.nio.file.Path;

/**
 * Where a tensor's bytes lie in a file exactly as {@link TensorSource#read} would copy them (row-major,
 * contiguous, little-endian, in the stored type), so a loader may map the file instead of copying.
 *
 * @param file   the file holding the bytes
 * @param offset byte offset of the tensor's first byte from the start of the file
 * @param length bytes (the tensor's {@link TensorInfo#byteSize()})
 */
public record StoredRegion(Path file, long offset, long length) {
    public StoredRegion {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length: " + offset + ", " + length);
        }
    }
}
