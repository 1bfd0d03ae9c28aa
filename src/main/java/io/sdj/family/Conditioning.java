package io.sdj.family;

/**
 * What a conditioner gives the diffusion model for one prompt.
 *
 * @param context the cross-attention context [contextDim × tokens], contextDim fastest
 * @param tokens  context length (77 per prompt window)
 * @param vector  the extra conditioning vector (SDXL's pooled text and size embeddings, {@code y}), or null
 */
public record Conditioning(float[] context, int tokens, float[] vector) {
    public Conditioning {
        if (tokens <= 0 || context.length % tokens != 0) {
            throw new IllegalArgumentException("context of " + context.length + " values is not " + tokens + " tokens");
        }
    }

    /** Width of each context token. */
    public int contextDim() {
        return context.length / tokens;
    }
}
