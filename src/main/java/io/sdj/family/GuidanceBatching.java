package io.sdj.family;

import io.sdj.EnumValues;
import io.sdj.InvalidParameterException;

/**
 * How the conditional and unconditional passes of classifier-free guidance run.
 *
 * <ul>
 *   <li>{@link #AUTO} (default): two passes on the CPU backend, where they measured faster than one batch of two
 *       (the weights are read from RAM fast enough that halving those reads gains nothing, and the batch's larger
 *       activations cost more); on GPU backends one batch of two in one graph, so each step reads the weights once,
 *       whenever the two conditionings have the same token count and the batch-of-two graph fits in the device's
 *       memory.</li>
 *   <li>{@link #BATCHED}: always one batch of two (a token-count mismatch is still run as two passes, because no
 *       padding of the shorter context leaves its prediction unchanged).</li>
 *   <li>{@link #TWO_PASS}: always two separate passes, sd.cpp's way.</li>
 * </ul>
 * The predictions are the same either way, bit for bit (every ggml operation in the U-Net computes each batch item
 * on its own).
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
