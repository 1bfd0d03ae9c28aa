package io.sdj.model;

/**
 * Hyper-parameters of a CLIP text transformer, in either naming of the weights.
 *
 * @param flavor           how the weights are named and which activation the MLP uses
 * @param hiddenSize       embedding width ({@code token_embedding.weight} dim 1; 768 / 1024 / 1280)
 * @param numLayers        transformer layers (12 / 24 / 32)
 * @param numHeads         attention heads: hidden / 64, at least 1; not visible in the weights
 * @param intermediateSize MLP width (3072 / 4096 / 5120)
 * @param vocabSize        token count ({@code token_embedding.weight} dim 0; 49408)
 * @param maxPositions     positions (77)
 * @param projectionDim    width of {@code text_projection}'s output (OpenCLIP bigG: 1280), 0 when not used
 */
public record ClipTextConfig(Flavor flavor, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                             int vocabSize, int maxPositions, int projectionDim) {

    /** The two namings of CLIP text weights in LDM checkpoints. */
    public enum Flavor {
        /**
         * OpenAI CLIP in Hugging Face CLIPTextModel names ({@code embeddings.token_embedding}, {@code encoder.layers.N
         * .self_attn.q_proj}, {@code final_layer_norm}); quick-GELU MLP. SD 1.x and SDXL's first encoder (ViT-L/14).
         */
        OPENAI,
        /**
         * OpenCLIP names ({@code token_embedding}, {@code positional_embedding}, {@code transformer.resblocks.N.attn
         * .in_proj_weight}, {@code ln_final}, {@code text_projection}); GELU MLP. SD 2.x (ViT-H/14) and SDXL's second
         * encoder (ViT-bigG/14).
         */
        OPEN_CLIP
    }

    /** CLIP ViT-L/14's text encoder as SD 1.x uses it. */
    public static final ClipTextConfig SD1 = new ClipTextConfig(Flavor.OPENAI, 768, 12, 12, 3072, 49408, 77, 0);
    /** OpenCLIP ViT-H/14's text encoder (SD 2.x). */
    public static final ClipTextConfig VIT_H = new ClipTextConfig(Flavor.OPEN_CLIP, 1024, 24, 16, 4096, 49408, 77, 0);
    /** OpenCLIP ViT-bigG/14's text encoder with its projection (SDXL's second encoder). */
    public static final ClipTextConfig VIT_BIGG = new ClipTextConfig(Flavor.OPEN_CLIP, 1280, 32, 20, 5120, 49408, 77,
            1280);

    /** Most layers and widest hidden state accepted from a file. */
    public static final int MAX_LAYERS = 256;
    public static final int MAX_WIDTH = 1 << 16;
    /** Most vocabulary entries accepted from a file. */
    public static final int MAX_VOCAB = 1 << 22;

    public ClipTextConfig {
        if (flavor == null) {
            throw new io.sdj.InvalidParameterException("clip.flavor", "is required");
        }
        UnetConfig.positive("clip.hidden_size", hiddenSize);
        UnetConfig.positive("clip.num_layers", numLayers);
        UnetConfig.positive("clip.num_heads", numHeads);
        UnetConfig.positive("clip.intermediate_size", intermediateSize);
        UnetConfig.positive("clip.vocab_size", vocabSize);
        UnetConfig.positive("clip.max_positions", maxPositions);
        UnetConfig.atMost("clip.hidden_size", hiddenSize, MAX_WIDTH);
        UnetConfig.atMost("clip.intermediate_size", intermediateSize, MAX_WIDTH);
        UnetConfig.atMost("clip.num_layers", numLayers, MAX_LAYERS);
        UnetConfig.atMost("clip.vocab_size", vocabSize, MAX_VOCAB);
        UnetConfig.atMost("clip.max_positions", maxPositions, 4096);
        UnetConfig.atMost("clip.projection_dim", projectionDim, MAX_WIDTH);
        if (hiddenSize % numHeads != 0) {
            throw new io.sdj.InvalidParameterException("clip.num_heads", "hidden size " + hiddenSize
                    + " is not divisible by " + numHeads + " heads");
        }
    }

    /** An OpenAI-flavoured configuration (SD 1.x shape rules) without projection. */
    public ClipTextConfig(int hiddenSize, int numLayers, int numHeads, int intermediateSize, int vocabSize,
                          int maxPositions) {
        this(Flavor.OPENAI, hiddenSize, numLayers, numHeads, intermediateSize, vocabSize, maxPositions, 0);
    }

    /** The head count sdj assumes for a hidden width: hidden / 64, at least 1. */
    public static int headsFor(int hiddenSize) {
        return Math.max(1, hiddenSize / 64);
    }

    /** True for the GELU MLP (OpenCLIP); false for OpenAI CLIP's quick-GELU. */
    public boolean usesGelu() {
        return flavor == Flavor.OPEN_CLIP;
    }

    /** A one-line summary for logs and messages. */
    public String describe() {
        return (flavor == Flavor.OPEN_CLIP ? "OpenCLIP" : "CLIP") + " hidden " + hiddenSize + ", layers " + numLayers
                + ", heads " + numHeads + ", mlp " + intermediateSize + ", vocab " + vocabSize + ", positions "
                + maxPositions + (projectionDim > 0 ? ", projection " + projectionDim : "");
    }
}
