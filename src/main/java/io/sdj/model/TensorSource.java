package io.sdj.model;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;

/**
 * A source of named tensors: one model file (safetensors, GGUF, a PyTorch pickle) or a set of them (a diffusers
 * folder, separate component files). Family detection, name mapping, weight-type policy and loading work on this
 * interface only, so a new file form is a new implementation and nothing else.
 *
 * <p>Names are as the source stores them (a reader that maps names, e.g. diffusers to LDM, reports the mapped
 * names). Shapes are outermost first (row-major). {@link TensorInfo#offset()} is the implementation's own locator
 * and means nothing outside it.
 */
public interface TensorSource extends AutoCloseable {

    /** The file or folder this source reads, for messages. */
    Path path();

    /** Every tensor, in the source's order (unmodifiable). */
    Map<String, TensorInfo> tensors();

    /** String metadata (safetensors {@code __metadata__}, GGUF key/values as text); empty when there is none. */
    Map<String, String> metadata();

    /**
     * Copies one tensor's stored bytes into {@code dst}: row-major, contiguous, little-endian, in the stored type
     * {@link TensorInfo#dtype()}; {@code dst} has exactly {@link TensorInfo#byteSize()} bytes.
     *
     * @throws ModelFormatException naming the file and tensor if the data cannot be read (truncated, out of bounds)
     */
    void read(TensorInfo tensor, MemorySegment dst);

    /**
     * A small F32, F16 or BF16 tensor as floats (row-major).
     *
     * @throws ModelFormatException if it is missing or has another type
     */
    float[] readFloats(String name);

    /**
     * Where the tensor's stored bytes lie in a file, when they lie there contiguously as {@link #read} would copy
     * them (so they can be memory-mapped); empty when they do not (compressed, transformed or not in a file).
     */
    default java.util.Optional<StoredRegion> storedRegion(TensorInfo tensor) {
        return java.util.Optional.empty();
    }

    /** True when the source has a tensor of this name. */
    default boolean contains(String name) {
        return tensors().containsKey(name);
    }

    /** Releases the files; tensors cannot be read afterwards. Closing twice is harmless. */
    @Override
    void close();
}
