package io.sdj.runtime;

import io.sdj.EnumValues;
import io.sdj.InvalidParameterException;

/**
 * Which graphs of a CPU backend hand their large matrix products to ggml's BLAS backend (OpenBLAS in the provisioned
 * runtime). Other backends, and a runtime without the BLAS backend, ignore it.
 */
public enum BlasUse {
    /** None: ggml's own CPU kernels everywhere, as an sd-cli built without BLAS ({@code --no-blas}). */
    OFF,
    /**
     * The default: every graph without a product over quantized weights. A graph with one (a quantized U-Net or
     * text encoder) stays on ggml's kernels and computes the very bits it computes without BLAS, because ggml
     * quantizes such a product's activations and that rounding turns sgemm's other order of sums into visible
     * changes (0.8-2.2/255 on the quantized golden images, against under 0.1 for F16 ones).
     */
    UNQUANTIZED,
    /**
     * Every graph ({@code --blas-quantized}): the BLAS backend dequantizes quantized weights to F32 for sgemm. A
     * quantized U-Net then runs at about the F16 one's speed, and its images no longer match sd-cli's quantized ones.
     */
    ALL;

    /**
     * The default for backends opened without saying: {@link #UNQUANTIZED}, or what the system property
     * {@code sdj.blas} says ({@code true} = unquantized, {@code false} = off, or a constant's name).
     *
     * @throws InvalidParameterException for another value of the property
     */
    public static BlasUse byDefault() {
        String v = System.getProperty("sdj.blas", "unquantized").trim();
        if (v.equalsIgnoreCase("true")) {
            return UNQUANTIZED;
        }
        if (v.equalsIgnoreCase("false")) {
            return OFF;
        }
        return EnumValues.parse(BlasUse.class, v, "sdj.blas");
    }
}
