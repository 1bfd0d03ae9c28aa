package io.sdj.family;

import io.sdj.EnumValues;
import io.sdj.InvalidParameterException;

/**
 * How the conditional and unconditional passes of classifier-free guidance run.
 *
 * <ul>
 *   <li>{@link #AUTO} (default): two passes on a CPU backend that multiplies with ggml's own kernels, where they
 *       measured as fast as one batch of two (the weights are read from RAM fast enough that halving those reads
 *       gains nothing, and the batch's larger activations cost more); one batch of two in one graph on a CPU backend
 *       with a BLAS partner (its products get faster with more rows) and on GPU backends, so each step reads the
 *       weights once, whenever the two conditionings have the same token count and the batch-of-two graph fits in
 *       the device's memory.</li>
 *   <li>{@link #BATCHED}: always one batch of two (a token-count mismatch is still run as two passes, because no
 *       padding of the shorter context leaves its prediction unchanged).</li>
 *   <li>{@link #TWO_PASS}: always two separate passes, sd.cpp's way.</li>
 * </ul>
 * With ggml's own kernels the predictions are the same either way, bit for bit (every ggml operation in the U-Net
 * computes each batch item on its own). A BLAS library's sgemm blocks its work by the number of rows, so with a BLAS
 * partner the two ways differ in the last bits of the sums.
 */
public enum GuidanceBatching {
    AUTO, BATCHED, TWO_PASS;

    /**
     * Parses {@code auto}, {@code batched} or {@code two_pass} (case-insensitive, '-' for '_').
     *
     * @throws InvalidParameterException for anything else
     */
    public static GuidanceBatching parse(String s) {
        return EnumValues.parse(GuidanceBatching.class, s, "guidance batching");
    }
}
