package io.sdj.family;

import io.sdj.text.ClipTokenizer;
import io.sdj.text.TokenizedPrompt;

import java.util.Arrays;

/**
 * SDXL's conditioner, as sd.cpp computes it. Per 77-token window: CLIP-L and bigG hidden states at the clip-skip
 * layer (no final norm), concatenated per token (L first), token weights applied to the concatenation with the mean
 * restored. bigG sees the same ids with every id after the first end-of-text replaced by 0. The pooled embedding
 * comes from window 0 only: all bigG layers, {@code ln_final}, the row of the first end-of-text token, times
 * {@code text_projection} as a linear weight. {@code y} = pooled ‖ emb(h) ‖ emb(w) ‖ emb(0) ‖ emb(0) ‖ emb(h) ‖
 * emb(w) (original size, crop top-left, target size; sd-cli always passes the output size and no crop).
 */
final class SdxlConditioner implements Conditioner {
    private final ClipEncoderRunner clipL;
    private final ClipEncoderRunner clipG;
    private final ClipTokenizer tokenizer;

    SdxlConditioner(ClipEncoderRunner clipL, ClipEncoderRunner clipG, ClipTokenizer tokenizer) {
        this.clipL = clipL;
        this.clipG = clipG;
        this.tokenizer = tokenizer;
    }

    @Override
    public Conditioning encode(String prompt, ConditionRequest request) {
        int eos = tokenizer.eosId();
        TokenizedPrompt tokens = tokenizer.tokenizeWeighted(prompt, eos);
        int window = TokenizedPrompt.WINDOW;
        int wl = clipL.hidden();
        int wg = clipG.hidden();
        int width = wl + wg;
        float[] context = new float[width * tokens.length()];
        float[] pooled = null;
        for (int w = 0; w < tokens.windowCount(); w++) {
            int[] idsL = tokens.windowIds(w);
            int[] idsG = openClipIds(idsL, eos);
            float[] hl = clipL.encodeWindow(idsL, request.clipSkip(), false, -1).hidden();
            ClipEncoderRunner.WindowOutput g = clipG.encodeWindow(idsG, request.clipSkip(), false,
                    w == 0 ? firstEos(idsG, eos) : -1);
            if (w == 0) {
                pooled = g.pooled();
            }
            float[] part = new float[width * window];
            for (int t = 0; t < window; t++) {
                System.arraycopy(hl, t * wl, part, t * width, wl);
                System.arraycopy(g.hidden(), t * wg, part, t * width + wl, wg);
            }
            ClipEncoderRunner.applyTokenWeights(part, tokens.windowWeights(w), width);
            System.arraycopy(part, 0, context, w * window * width, part.length);
        }
        return new Conditioning(context, tokens.length(), vector(pooled, request.width(), request.height()));
    }

    /** An empty negative prompt gives a zero context (the pooled and size vector stay), as in sd.cpp. */
    @Override
    public Conditioning encodeNegative(String negativePrompt, ConditionRequest request) {
        Conditioning c = encode(negativePrompt, request);
        if (!negativePrompt.isEmpty()) {
            return c;
        }
        return new Conditioning(new float[c.context().length], c.tokens(), c.vector());
    }

    /** bigG's ids: the same, with every id after the first end-of-text token set to 0 (OpenCLIP padding). */
    static int[] openClipIds(int[] ids, int eosId) {
        int[] out = ids.clone();
        int eos = firstEos(ids, eosId);
        Arrays.fill(out, eos + 1, out.length, 0);
        return out;
    }

    /** Index of the first end-of-text token, at most the last index. */
    static int firstEos(int[] ids, int eosId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == eosId) {
                return i;
            }
        }
        return ids.length - 1;
    }

    /** {@code y}: the pooled embedding, then original size, crop and target size, each value embedded in 256. */
    static float[] vector(float[] pooled, int width, int height) {
        int[] values = {height, width, 0, 0, height, width};
        float[] y = new float[pooled.length + values.length * SdxlFamily.SIZE_EMBED_DIM];
        System.arraycopy(pooled, 0, y, 0, pooled.length);
        for (int k = 0; k < values.length; k++) {
            sizeEmbedding(values[k], y, pooled.length + k * SdxlFamily.SIZE_EMBED_DIM);
        }
        return y;
    }

    /**
     * The sinusoidal embedding of one value, written at {@code offset}: cos(t·f_j) for j &lt; 128, then sin(t·f_j),
     * with {@code f_j = exp(-ln(10000)·j/128)} rounded to float and the argument formed in float.
     */
    static void sizeEmbedding(int value, float[] out, int offset) {
        int half = SdxlFamily.SIZE_EMBED_DIM / 2;
        for (int j = 0; j < half; j++) {
            float freq = (float) Math.exp(-Math.log(10000.0) * j / half);
            float arg = (float) value * freq;
            out[offset + j] = (float) Math.cos(arg);
            out[offset + half + j] = (float) Math.sin(arg);
        }
    }

    @Override
    public int passes() {
        return clipL.passes() + clipG.passes();
    }

    @Override
    public void close() {
        clipL.close();
        clipG.close();
    }
}
