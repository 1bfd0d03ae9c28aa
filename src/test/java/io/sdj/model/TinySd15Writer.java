package io.sdj.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test support: writes a scaled-down SD 1.x checkpoint with the real tensor names (original LDM layout, the same key
 * set as the full model except for depth and width) and deterministic pseudo-random values, a few MB in size.
 *
 * <p>Defaults: U-Net model channels 32, channel_mult (1, 2), 1 ResBlock per level, attention at both levels, depth
 * 1, 4 heads, context 32; CLIP hidden 32, 2 layers, MLP 128, vocab 49408, 77 positions; VAE ch 32, ch_mult (1, 2),
 * 1 ResnetBlock, z 4, embed 4; F16 weights; alphas_cumprod (F16, LDM linear schedule) and position_ids included.
 *
 * <p>Values are those of {@link StandInModel} (a pure function of seed, tensor name and element index).
 */
public final class TinySd15Writer {

    private TinySd15Writer() {
    }

    /** A builder with the defaults above. */
    public static Builder builder() {
        return new Builder();
    }

    /** Writes the default tiny model to {@code file} and returns its configuration. */
    public static Sd1Config writeDefault(Path file) {
        Builder b = builder();
        b.write(file);
        return b.config();
    }

    /** The value of element {@code index} of tensor {@code name} before rounding to the file dtype. */
    public static double value(long seed, String name, long[] shape, long index) {
        return StandInModel.value(seed, name, shape, index);
    }

    /** The LDM linear DDPM schedule's alphas_cumprod (0.00085 → 0.012, 1000 steps), in double. */
    public static double[] ldmAlphasCumprod() {
        return StandInModel.ldmAlphasCumprod();
    }

    /** Configurable tiny checkpoint. */
    public static final class Builder {
        private int modelChannels = 32;
        private List<Integer> channelMult = List.of(1, 2);
        private int numResBlocks = 1;
        private List<Boolean> attention = null; // all levels
        private int transformerDepth = 1;
        private int unetHeads = 4;
        private int inChannels = 4;
        private int outChannels = 4;
        private int clipHidden = 32;
        private Integer contextDim = null; // = clipHidden
        private int clipLayers = 2;
        private int clipIntermediate = 128;
        private int vocab = 49408;
        private int positions = 77;
        private int vaeCh = 32;
        private List<Integer> vaeChMult = List.of(1, 2);
        private int vaeResBlocks = 1;
        private int zChannels = 4;
        private int embedDim = 4;
        private DType dtype = DType.F16;
        private long seed = 1;
        private boolean alphasCumprod = true;
        private boolean positionIds = true;
        private final Set<String> omitted = new HashSet<>();
        private final Map<String, long[]> reshaped = new LinkedHashMap<>();
        private final Map<String, long[]> extras = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder modelChannels(int v) { modelChannels = v; return this; }
        public Builder channelMult(Integer... v) { channelMult = List.of(v); return this; }
        public Builder numResBlocks(int v) { numResBlocks = v; return this; }
        /** Attention per level; default: every level. */
        public Builder attention(Boolean... v) { attention = List.of(v); return this; }
        public Builder transformerDepth(int v) { transformerDepth = v; return this; }
        public Builder unetHeads(int v) { unetHeads = v; return this; }
        public Builder inChannels(int v) { inChannels = v; return this; }
        public Builder outChannels(int v) { outChannels = v; return this; }
        public Builder clipHidden(int v) { clipHidden = v; return this; }
        /** U-Net context width; default: the CLIP hidden width. */
        public Builder contextDim(int v) { contextDim = v; return this; }
        public Builder clipLayers(int v) { clipLayers = v; return this; }
        public Builder clipIntermediate(int v) { clipIntermediate = v; return this; }
        public Builder vocab(int v) { vocab = v; return this; }
        public Builder positions(int v) { positions = v; return this; }
        public Builder vaeCh(int v) { vaeCh = v; return this; }
        public Builder vaeChMult(Integer... v) { vaeChMult = List.of(v); return this; }
        public Builder vaeResBlocks(int v) { vaeResBlocks = v; return this; }
        public Builder zChannels(int v) { zChannels = v; return this; }
        public Builder embedDim(int v) { embedDim = v; return this; }
        /** Weight dtype: F16 (default), F32 or BF16. */
        public Builder dtype(DType v) { dtype = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder alphasCumprod(boolean v) { alphasCumprod = v; return this; }
        public Builder positionIds(boolean v) { positionIds = v; return this; }
        /** Leaves a tensor (full name) out, to make a broken file. */
        public Builder omit(String name) { omitted.add(name); return this; }
        /** Writes a tensor (full name) with another shape, to make a broken file. */
        public Builder reshape(String name, long... shape) { reshaped.put(name, shape); return this; }
        /** Adds a tensor that is not part of the layout. */
        public Builder extra(String name, long... shape) { extras.put(name, shape); return this; }
        public Builder metadata(String key, String value) { metadata.put(key, value); return this; }

        /** The configuration the file will have (and that {@link Sd1Layout#infer} should read back). */
        public Sd1Config config() {
            List<Boolean> attn = attention;
            if (attn == null) {
                attn = new ArrayList<>();
                for (int i = 0; i < channelMult.size(); i++) {
                    attn.add(true);
                }
            }
            int ctx = contextDim == null ? clipHidden : contextDim;
            return new Sd1Config(
                    new UnetConfig(inChannels, outChannels, modelChannels, channelMult, numResBlocks, attn,
                            transformerDepth, ctx, unetHeads),
                    new ClipTextConfig(clipHidden, clipLayers, ClipTextConfig.headsFor(clipHidden), clipIntermediate,
                            vocab, positions),
                    new VaeConfig(3, vaeCh, vaeChMult, vaeResBlocks, zChannels, embedDim));
        }

        /** The file contents as a writer (tensors in ascending name order, like the real checkpoint). */
        public SafetensorsWriter toWriter() {
            Sd1Config cfg = config();
            Map<String, long[]> all = new LinkedHashMap<>(Sd1Layout.expectedTensors(cfg));
            all.putAll(reshaped);
            all.putAll(extras);
            List<String> names = new ArrayList<>(all.keySet());
            if (alphasCumprod) {
                names.add(Sd1Layout.ALPHAS_CUMPROD);
            }
            if (positionIds) {
                names.add(Sd1Layout.POSITION_IDS);
            }
            names.removeAll(omitted);
            names.sort(null);
            SafetensorsWriter w = StandInModel.newWriter(cfg, seed, "TinySd15Writer");
            metadata.forEach(w::metadata);
            for (String name : names) {
                if (name.equals(Sd1Layout.ALPHAS_CUMPROD) && !all.containsKey(name)) {
                    StandInModel.addAlphasCumprod(w);
                } else if (name.equals(Sd1Layout.POSITION_IDS) && !all.containsKey(name)) {
                    StandInModel.addPositionIds(w, positions);
                } else {
                    StandInModel.addRandom(w, name, all.get(name), dtype, seed);
                }
            }
            return w;
        }

        /** Writes the file and returns it. */
        public Path write(Path file) {
            toWriter().write(file);
            return file;
        }
    }
}
