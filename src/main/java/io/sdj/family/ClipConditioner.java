package io.sdj.family;

import io.sdj.text.ClipTokenizer;
import io.sdj.text.TokenizedPrompt;

/**
 * The conditioner of SD 1.x and SD 2.x: one CLIP text encoder, its hidden states (at the clip-skip layer, then the
 * final layer norm) as the cross-attention context, 77-token windows encoded separately and concatenated, token
 * weights applied per window with the mean restored. The families differ in the encoder and the pad id.
 */
final class ClipConditioner implements Conditioner {
    private final ClipEncoderRunner encoder;
    private final ClipTokenizer tokenizer;
    private final int padId;

    ClipConditioner(ClipEncoderRunner encoder, ClipTokenizer tokenizer, int padId) {
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.padId = padId;
    }

    @Override
    public Conditioning encode(String prompt, ConditionRequest request) {
        TokenizedPrompt tokens = tokenizer.tokenizeWeighted(prompt, padId);
        float[] states = encoder.encode(tokens, request.clipSkip(), true);
        ClipEncoderRunner.applyTokenWeights(states, tokens, encoder.hidden());
        return new Conditioning(states, tokens.length(), null);
    }

    @Override
    public int passes() {
        return encoder.passes();
    }

    @Override
    public void close() {
        encoder.close();
    }
}
