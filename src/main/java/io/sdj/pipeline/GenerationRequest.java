package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.adapters.Lora;
import io.sdj.sampling.RngKind;
import io.sdj.sampling.SamplerKind;
import io.sdj.sampling.Scheduler;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What to generate. Text-to-image when {@link #initImage()} is null, image-to-image otherwise. Defaults follow
 * stable-diffusion.cpp's sd-cli: 512×512, 20 steps, cfg 7, euler_a, discrete schedule (lcm for the lcm sampler),
 * seed 42, cuda RNG, strength 0.75, clip skip 1 (SD1), one image. Build with {@link #builder(String)}.
 *
 * @param seed       the seed of the first image; image b of a batch uses seed + b
 * @param clipSkip   1 = last CLIP layer, 2 = the one before, ...
 * @param initImage  the start image for image-to-image (resized to width×height if it differs), or null
 * @param loras      LoRA files with multipliers (applied in path order; a file listed twice adds its multipliers)
 */
public record GenerationRequest(String prompt, String negativePrompt, int width, int height, int steps,
                                float cfgScale, SamplerKind sampler, Scheduler scheduler, long seed, RngKind rng,
                                float strength, int clipSkip, int batchCount, BufferedImage initImage,
                                List<Lora> loras) {

    public GenerationRequest {
        if (prompt == null) {
            throw new InvalidParameterException("prompt", "must not be null (use \"\" for none)");
        }
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
        checkSize("width", width);
        checkSize("height", height);
        if (steps < 1 || steps > MAX_STEPS) {
            throw new InvalidParameterException("steps", "must be 1 to " + MAX_STEPS + ", got " + steps);
        }
        if (!Float.isFinite(cfgScale) || cfgScale < 0) {
            throw new InvalidParameterException("cfg_scale", "must be a finite number ≥ 0, got " + cfgScale);
        }
        if (sampler == null) {
            throw new InvalidParameterException("sampling_method", "must not be null");
        }
        if (scheduler == null) {
            scheduler = Scheduler.defaultFor(sampler);
        }
        if (rng == null) {
            throw new InvalidParameterException("rng", "must not be null");
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new InvalidParameterException("strength", "must be in (0, 1], got " + strength);
        }
        if (clipSkip > MAX_CLIP_SKIP) {
            throw new InvalidParameterException("clip_skip", "must be at most " + MAX_CLIP_SKIP
                    + " (and at most the text encoder's layer count), got " + clipSkip);
        }
        if (batchCount < 1 || batchCount > MAX_BATCH) {
            throw new InvalidParameterException("batch_count", "must be 1 to " + MAX_BATCH + ", got " + batchCount);
        }
        if (initImage != null) {
            long iw = initImage.getWidth();
            long ih = initImage.getHeight();
            if (iw > MAX_SIZE || ih > MAX_SIZE || iw * ih > MAX_INIT_PIXELS) {
                throw new InvalidParameterException("init_image", iw + "x" + ih + " is too large (at most " + MAX_SIZE
                        + " pixels per side and " + (MAX_INIT_PIXELS >> 20) + " Mpixel in all)");
            }
        }
        loras = loras == null ? List.of() : List.copyOf(loras);
        if (seed < 0) {
            seed = ThreadLocalRandom.current().nextLong(0, 1L << 31);
        }
    }

    /** Largest width or height accepted (pixels). */
    public static final int MAX_SIZE = 16384;
    /** Largest init image accepted, in pixels (64 Mpixel). */
    public static final long MAX_INIT_PIXELS = 64L << 20;
    /** Largest step count accepted (the models have 1000 training timesteps). */
    public static final int MAX_STEPS = 1000;
    /** Largest batch accepted. */
    public static final int MAX_BATCH = 256;
    /** Largest clip skip accepted before the model's own layer count is known. */
    public static final int MAX_CLIP_SKIP = 64;

    private static void checkSize(String name, int v) {
        if (v < 1 || v > MAX_SIZE) {
            throw new InvalidParameterException(name, "must be 1 to " + MAX_SIZE + " pixels, got " + v
                    + " (sizes that are not a multiple of the model's spatial factor are aligned up)");
        }
    }

    /** True for image-to-image. */
    public boolean isImageToImage() {
        return initImage != null;
    }

    /** The effective clip skip: values ≤ 0 mean the family's default (sd.cpp: 1 for SD 1.x, 2 for SD 2.x/SDXL). */
    public int effectiveClipSkip(int familyDefault) {
        return clipSkip <= 0 ? familyDefault : clipSkip;
    }

    /** A builder with sd-cli's defaults. */
    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** A builder starting from this request. */
    public Builder toBuilder() {
        Builder b = new Builder(prompt);
        b.negativePrompt = negativePrompt;
        b.width = width;
        b.height = height;
        b.steps = steps;
        b.cfgScale = cfgScale;
        b.sampler = sampler;
        b.scheduler = scheduler;
        b.seed = seed;
        b.rng = rng;
        b.strength = strength;
        b.clipSkip = clipSkip;
        b.batchCount = batchCount;
        b.initImage = initImage;
        b.loras = new java.util.ArrayList<>(loras);
        return b;
    }

    /** Builds a {@link GenerationRequest}; every setter has sd-cli's default. */
    public static final class Builder {
        private String prompt;
        private String negativePrompt = "";
        private int width = 512;
        private int height = 512;
        private int steps = 20;
        private float cfgScale = 7.0f;
        private SamplerKind sampler = SamplerKind.EULER_A;
        private Scheduler scheduler;
        private long seed = 42;
        private RngKind rng = RngKind.CUDA;
        private float strength = 0.75f;
        private int clipSkip = -1;
        private int batchCount = 1;
        private BufferedImage initImage;
        private List<Lora> loras = new java.util.ArrayList<>();

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder prompt(String v) { prompt = v; return this; }
        public Builder negativePrompt(String v) { negativePrompt = v; return this; }
        public Builder width(int v) { width = v; return this; }
        public Builder height(int v) { height = v; return this; }
        public Builder size(int w, int h) { width = w; height = h; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder cfgScale(float v) { cfgScale = v; return this; }
        public Builder sampler(SamplerKind v) { sampler = v; return this; }
        /** The schedule; null picks the sampler's default. */
        public Builder scheduler(Scheduler v) { scheduler = v; return this; }
        /** A negative seed picks a random one. */
        public Builder seed(long v) { seed = v; return this; }
        public Builder rng(RngKind v) { rng = v; return this; }
        public Builder strength(float v) { strength = v; return this; }
        public Builder clipSkip(int v) { clipSkip = v; return this; }
        public Builder batchCount(int v) { batchCount = v; return this; }
        /** Image-to-image from this image (null for text-to-image). */
        public Builder initImage(BufferedImage v) { initImage = v; return this; }
        /** Adds a LoRA file at a multiplier (as {@code <lora:name:multiplier>} does); see {@link Lora}. */
        public Builder lora(java.nio.file.Path file, float multiplier) { loras.add(new Lora(file, multiplier)); return this; }
        /** Replaces the LoRA list. */
        public Builder loras(List<Lora> v) { loras = new java.util.ArrayList<>(v); return this; }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler,
                    seed, rng, strength, clipSkip, batchCount, initImage, loras);
        }
    }
}
