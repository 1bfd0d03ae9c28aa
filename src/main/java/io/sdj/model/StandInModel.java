package io.sdj.model;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * sdj's own stand-in SD 1.x checkpoint: the real tensor names and layout (original LDM naming, as
 * {@link LdmLayout#expectedTensors} lists them for a configuration) at a small width, filled with deterministic
 * pseudo-random values. It loads and runs through the same code as a real model, but its weights are random, not
 * trained, so what it generates is texture, never a picture of the prompt. {@code make run} uses it (with a small
 * tokenizer written beside it) to show the pipeline end to end without downloading a model.
 *
 * <p>Values are a pure function of (seed, tensor name, element index), see {@link #value}: embeddings uniform with
 * std 0.02, tensors with 2+ dims uniform in ±sqrt(3 / fan_in) (fan_in = product of all dims but the first), 1-D
 * {@code .weight} (norm scales) 1 ± 0.1, 1-D {@code .bias} ± 0.02; then rounded to the file dtype.
 * {@code alphas_cumprod} holds the LDM linear schedule and {@code position_ids} 0..positions-1.
 */
public final class StandInModel {
    /** The seed {@code make run} uses. */
    public static final long DEFAULT_SEED = 1;

    private StandInModel() {
    }

    /**
     * The stand-in's shape: U-Net model channels 32, channel_mult (1, 2), 1 ResBlock per level, attention at both
     * levels, depth 1, 4 heads (recorded as {@value LdmLayout#HEADS_METADATA_KEY}), context 32; CLIP hidden 32,
     * 2 layers, MLP 128, 77 positions; VAE ch 32 with four levels (so it scales by 8 like SD's), 1 ResnetBlock,
     * z 4, embed 4.
     *
     * @param vocabSize rows of the token embedding: the size of the tokenizer that goes with the model
     */
    public static ModelConfig config(int vocabSize) {
        return new ModelConfig(
                new UnetConfig(4, 4, 32, List.of(1, 2), 1, List.of(1, 1), 1, 32, 4, 0, false, 0),
                new VaeConfig(3, 32, List.of(1, 1, 1, 1), 1, 4, 4),
                Map.of(CLIP, new ClipTextConfig(32, 2, ClipTextConfig.headsFor(32), 128, vocabSize, 77)));
    }

    /** The SD 1.x text encoder component. */
    static final Component CLIP = new Component("clip_l", "cond_stage_model.transformer.text_model.");
    /** CLIP's position-id buffer name in an SD 1.x file. */
    static final String POSITION_IDS = CLIP.name("embeddings.position_ids");

    /** Writes the checkpoint of {@code config} with F16 weights and returns {@code file}. */
    public static Path write(Path file, ModelConfig config, long seed) {
        writer(config, DType.F16, seed).write(file);
        return file;
    }

    /** The whole checkpoint of {@code config}: every layout tensor plus alphas_cumprod and position_ids, by name. */
    public static SafetensorsWriter writer(ModelConfig config, DType dtype, long seed) {
        Map<String, long[]> tensors = LdmLayout.expectedTensors(config);
        List<String> names = new ArrayList<>(tensors.keySet());
        names.add(LdmLayout.ALPHAS_CUMPROD);
        names.add(POSITION_IDS);
        names.sort(null);
        SafetensorsWriter w = newWriter(config, seed, "sdj StandInModel");
        for (String name : names) {
            if (name.equals(LdmLayout.ALPHAS_CUMPROD)) {
                addAlphasCumprod(w);
            } else if (name.equals(POSITION_IDS)) {
                addPositionIds(w, POSITION_IDS, config.textEncoder(CLIP).maxPositions());
            } else {
                addRandom(w, name, tensors.get(name), dtype, seed);
            }
        }
        return w;
    }

    /**
     * A writer holding the stand-in's metadata: format, generator, seed, and the U-Net head count when it is not
     * SD 1.x's 8 (the weights do not show it).
     */
    public static SafetensorsWriter newWriter(ModelConfig config, long seed, String generator) {
        SafetensorsWriter w = new SafetensorsWriter();
        w.metadata("format", "pt");
        w.metadata("generator", generator);
        w.metadata("seed", Long.toString(seed));
        if (config.unet().numHeads() > 0 && config.unet().numHeads() != UnetConfig.SD1_NUM_HEADS) {
            w.metadata(LdmLayout.HEADS_METADATA_KEY, Integer.toString(config.unet().numHeads()));
        }
        return w;
    }

    /** Adds tensor {@code name} of {@code shape} with its pseudo-random values in {@code dtype}. */
    public static void addRandom(SafetensorsWriter w, String name, long[] shape, DType dtype, long seed) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        double[] ch = centerAndHalfWidth(name, shape);
        long key = key(seed, name);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (ch[0] + ch[1] * uniform(key, i));
        }
        w.addFloats(name, dtype, shape, v);
    }

    /** Adds {@value LdmLayout#ALPHAS_CUMPROD} (F16, [1000]) with the LDM linear schedule. */
    public static void addAlphasCumprod(SafetensorsWriter w) {
        double[] ac = ldmAlphasCumprod();
        float[] f = new float[ac.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) ac[i];
        }
        w.addFloats(LdmLayout.ALPHAS_CUMPROD, DType.F16, new long[]{1000}, f);
    }

    /** Adds a CLIP position_ids buffer (I64, [1, positions]) holding 0..positions-1. */
    public static void addPositionIds(SafetensorsWriter w, String name, int positions) {
        long[] ids = new long[positions];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        w.addLongs(name, new long[]{1, positions}, ids);
    }

    /** The value of element {@code index} of tensor {@code name} before rounding to the file dtype. */
    public static double value(long seed, String name, long[] shape, long index) {
        double[] ch = centerAndHalfWidth(name, shape);
        return ch[0] + ch[1] * uniform(key(seed, name), index);
    }

    /** (center, half width) of a tensor's uniform distribution (rules in the class comment). */
    static double[] centerAndHalfWidth(String name, long[] shape) {
        if (name.endsWith("token_embedding.weight") || name.endsWith("position_embedding.weight")
                || name.endsWith("positional_embedding")) {
            return new double[]{0, 0.02 * Math.sqrt(3.0)};
        }
        if (shape.length >= 2) {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            return new double[]{0, Math.sqrt(3.0 / fanIn)};
        }
        return name.endsWith(".weight") ? new double[]{1.0, 0.1} : new double[]{0, 0.02};
    }

    /** FNV-1a-64 of the UTF-8 name, xor the seed. */
    static long key(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h ^ seed;
    }

    /** Uniform on [-1, 1): SplitMix64 output {@code index} of a generator seeded with {@code key}. */
    static double uniform(long key, long index) {
        long z = key + (index + 1) * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-52 - 1.0;
    }

    /** The LDM linear DDPM schedule's alphas_cumprod (0.00085 → 0.012, 1000 steps), in double. */
    public static double[] ldmAlphasCumprod() {
        double s0 = Math.sqrt(0.00085);
        double s1 = Math.sqrt(0.012);
        double[] ac = new double[1000];
        double prod = 1;
        for (int t = 0; t < 1000; t++) {
            double q = s0 + (s1 - s0) * (t / 999.0);
            prod *= 1 - q * q;
            ac[t] = prod;
        }
        return ac;
    }
}
