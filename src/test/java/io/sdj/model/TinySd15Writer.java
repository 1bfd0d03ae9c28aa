package io.sdj.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test support: writes a scaled-down SD 1.x (default), SD 2.x or SDXL checkpoint ({@link Builder#family}) with the real tensor names (original LDM layout, the same key
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

    /** The family shapes the writer knows. */
    public enum Family { SD1, SD2, SDXL }

    /** SD 2.x's text encoder prefix (OpenCLIP). */
    public static final Component SD2_CLIP = new Component("open_clip_h", "cond_stage_model.model.");
    /** SD 1.x's text encoder prefix. */
    public static final Component SD1_CLIP = new Component("clip_l", "cond_stage_model.transformer.text_model.");
    /** SDXL's text encoder prefixes. */
    public static final Component SDXL_CLIP_L = new Component("clip_l", "conditioner.embedders.0.transformer.text_model.");
    public static final Component SDXL_CLIP_G = new Component("clip_g", "conditioner.embedders.1.model.");

    /** A tiny SD 2.x builder: 64-wide U-Net (head width 64), OpenCLIP hidden 64, linear projections. */
    public static Builder sd2() {
        return builder().family(Family.SD2).modelChannels(64).clipHidden(64).unetHeads(0);
    }

    /** A tiny SDXL builder: levels (0, 1, 2) deep, CLIP-L 32 + bigG 64 wide, y = 64 + 6 × 256. */
    public static Builder sdxl() {
        return builder().family(Family.SDXL).modelChannels(64).channelMult(1, 2).depths(0, 2).middleDepth(2)
                .clipHidden(64).clipLHidden(32).unetHeads(0);
    }

    /** Writes the default tiny model to {@code file} and returns its configuration. */
    public static ModelConfig writeDefault(Path file) {
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
        private List<Integer> depths = null;
        private int middleDepth = 1;
        private Family family = Family.SD1;
        private int clipLHidden = 32;
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
        public Builder transformerDepth(int v) { transformerDepth = v; middleDepth = v; return this; }
        /** Per-level transformer depth (0 = no attention); overrides attention()/transformerDepth(). */
        public Builder depths(Integer... v) { depths = List.of(v); return this; }
        public Builder middleDepth(int v) { middleDepth = v; return this; }
        public Builder family(Family v) { family = v; return this; }
        /** SDXL's first (CLIP-L) encoder width; clipHidden() is then bigG's. */
        public Builder clipLHidden(int v) { clipLHidden = v; return this; }
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

        /** The configuration the file will have (and that the family's configure() should read back). */
        public ModelConfig config() {
            List<Integer> depth = depths;
            if (depth == null) {
                depth = new ArrayList<>();
                for (int i = 0; i < channelMult.size(); i++) {
                    depth.add(attention == null || attention.get(i) ? transformerDepth : 0);
                }
            }
            boolean sd1 = family == Family.SD1;
            ClipTextConfig.Flavor flavor = sd1 ? ClipTextConfig.Flavor.OPENAI : ClipTextConfig.Flavor.OPEN_CLIP;
            int projection = family == Family.SDXL ? clipHidden : family == Family.SD2 ? clipHidden : 0;
            ClipTextConfig main = new ClipTextConfig(flavor, clipHidden, clipLayers, ClipTextConfig.headsFor(clipHidden),
                    clipIntermediate, vocab, positions, projection);
            Map<Component, ClipTextConfig> encoders = new LinkedHashMap<>();
            int ctx;
            int adm = 0;
            switch (family) {
                case SD1 -> {
                    encoders.put(SD1_CLIP, main);
                    ctx = contextDim == null ? clipHidden : contextDim;
                }
                case SD2 -> {
                    encoders.put(SD2_CLIP, main);
                    ctx = contextDim == null ? clipHidden : contextDim;
                }
                default -> {
                    encoders.put(SDXL_CLIP_L, new ClipTextConfig(ClipTextConfig.Flavor.OPENAI, clipLHidden, clipLayers,
                            ClipTextConfig.headsFor(clipLHidden), clipIntermediate, vocab, positions, 0));
                    encoders.put(SDXL_CLIP_G, main);
                    ctx = clipLHidden + clipHidden;
                    adm = clipHidden + 6 * 256;
                }
            }
            int heads = unetHeads > 0 ? unetHeads : 0;
            int headDim = unetHeads > 0 ? 0 : UnetConfig.HEAD_DIM_64;
            return new ModelConfig(
                    new UnetConfig(inChannels, outChannels, modelChannels, channelMult, numResBlocks, depth, middleDepth,
                            ctx, heads, headDim, !sd1, adm),
                    new VaeConfig(3, vaeCh, vaeChMult, vaeResBlocks, zChannels, embedDim), encoders);
        }

        /** The file contents as a writer (tensors in ascending name order, like the real checkpoint). */
        public SafetensorsWriter toWriter() {
            ModelConfig cfg = config();
            Map<String, long[]> all = new LinkedHashMap<>(LdmLayout.expectedTensors(cfg));
            String positionIdsName = (family == Family.SDXL ? SDXL_CLIP_L : SD1_CLIP).name("embeddings.position_ids");
            all.putAll(reshaped);
            all.putAll(extras);
            List<String> names = new ArrayList<>(all.keySet());
            if (alphasCumprod && family != Family.SDXL) {
                names.add(LdmLayout.ALPHAS_CUMPROD);
            }
            if (positionIds && family != Family.SD2) {
                names.add(positionIdsName);
            }
            names.removeAll(omitted);
            names.sort(null);
            SafetensorsWriter w = StandInModel.newWriter(cfg, seed, "TinySd15Writer");
            metadata.forEach(w::metadata);
            for (String name : names) {
                if (name.equals(LdmLayout.ALPHAS_CUMPROD) && !all.containsKey(name)) {
                    StandInModel.addAlphasCumprod(w);
                } else if (name.equals(positionIdsName) && !all.containsKey(name)) {
                    StandInModel.addPositionIds(w, positionIdsName, positions);
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
