package io.sdj.model;

/**
 * Hyper-parameters of the CLIP text encoder (HF "CLIPTextModel" naming, as SD 1.x checkpoints store CLIP ViT-L/14).
 *
 * @param hiddenSize       embedding width ({@code token_embedding.weight} dim 1; 768)
 * @param numLayers        encoder layers (count of {@code encoder.layers.N}; 12)
 * @param numHeads         attention heads: hidden / 64, at least 1 (12); not visible in the weights
 * @param intermediateSize MLP width ({@code mlp.fc1.weight} dim 0; 3072)
 * @param vocabSize        token count ({@code token_embedding.weight} dim 0; 49408)
 * @param maxPositions     positions ({@code position_embedding.weight} dim 0; 77)
 */
public record ClipTextConfig(int hiddenSize, int numLayers, int numHeads, int intermediateSize, int vocabSize,
                             int maxPositions) {

    /** CLIP ViT-L/14's text encoder as SD 1.x uses it. */
    public static final ClipTextConfig SD1 = new ClipTextConfig(768, 12, 12, 3072, 49408, 77);

    public ClipTextConfig {
        UnetConfig.positive("clip.hidden_size", hiddenSize);
        UnetConfig.positive("clip.num_layers", numLayers);
        UnetConfig.positive("clip.num_heads", numHeads);
        UnetConfig.positive("clip.intermediate_size", intermediateSize);
        UnetConfig.positive("clip.vocab_size", vocabSize);
        UnetConfig.positive("clip.max_positions", maxPositions);
    }

    /** The head count sdj assumes for a hidden width: hidden / 64, at least 1. */
    public static int headsFor(int hiddenSize) {
        return Math.max(1, hiddenSize / 64);
    }
}
