package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.Arrays;

/**
 * The part of a full schedule an img2img run samples, as sd.cpp cuts it.
 *
 * <p>For {@code strength < 1}: {@code tEnc = (int) (steps * strength)} (the product in float), decremented when it
 * equals {@code steps}; the run uses {@code sigmas[steps - tEnc - 1 ..]}, i.e. {@code tEnc + 1} denoising steps
 * (sd.cpp logs "target t_enc is tEnc steps"). With 4 steps and strength 0.6: {@code tEnc = 2}, sigmas
 * {@code [s1, s2, s3, 0]}, 3 model steps. For {@code strength >= 1} the full schedule is used and no
 * {@code t_enc} is computed ({@link #tEnc()} is then {@code steps}).
 *
 * <p>The initial latent is then {@code init + noise * sigmas[0]} ({@link Denoiser#noiseLatent}), with {@code noise}
 * drawn from the image's generator right after seeding, exactly as for txt2img (where {@code init} is zero).
 *
 * @param tEnc   sd.cpp's {@code t_enc}
 * @param sigmas the sigmas to sample, ending in 0
 */
public record Img2ImgSchedule(int tEnc, float[] sigmas) {

    public Img2ImgSchedule {
        sigmas = sigmas.clone();
    }

    @Override
    public float[] sigmas() {
        return sigmas.clone();
    }

    /** Number of model steps the cut schedule runs ({@code sigmas.length - 1}). */
    public int steps() {
        return sigmas.length - 1;
    }

    /**
     * Cuts {@code fullSigmas} (the {@code steps + 1} values of the requested scheduler) for {@code strength}.
     *
     * @throws InvalidParameterException if the schedule does not have {@code steps + 1} entries or strength is not
     *                                   in [0, 1]
     */
    public static Img2ImgSchedule of(float[] fullSigmas, int steps, float strength) {
        if (steps < 1 || fullSigmas.length != steps + 1) {
            throw new InvalidParameterException("steps",
                    "expected >= 1 steps and " + (steps + 1) + " sigmas, got " + steps + " and " + fullSigmas.length);
        }
        if (!(strength >= 0.0f && strength <= 1.0f)) {
            throw new InvalidParameterException("strength", "expected a value in [0, 1], got " + strength);
        }
        if (strength >= 1.0f) {
            return new Img2ImgSchedule(steps, fullSigmas);
        }
        int tEnc = (int) (steps * strength);
        if (tEnc == steps) {
            tEnc--;
        }
        int start = steps - tEnc - 1;
        return new Img2ImgSchedule(tEnc, Arrays.copyOfRange(fullSigmas, start, fullSigmas.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Img2ImgSchedule other && tEnc == other.tEnc && Arrays.equals(sigmas, other.sigmas);
    }

    @Override
    public int hashCode() {
        return 31 * tEnc + Arrays.hashCode(sigmas);
    }

    @Override
    public String toString() {
        return "Img2ImgSchedule[tEnc=" + tEnc + ", sigmas=" + Arrays.toString(sigmas) + "]";
    }
}
