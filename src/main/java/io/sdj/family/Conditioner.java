package io.sdj.family;

/** Text (and size) to what a family's diffusion model is conditioned on. Holds compiled graphs until closed. */
public interface Conditioner extends AutoCloseable {

    /** The conditioning of a prompt. */
    Conditioning encode(String prompt, ConditionRequest request);

    /**
     * The conditioning of the negative prompt for classifier-free guidance; by default the same as
     * {@link #encode}. A family may treat an empty negative prompt specially (SDXL zeroes its context).
     */
    default Conditioning encodeNegative(String negativePrompt, ConditionRequest request) {
        return encode(negativePrompt, request);
    }

    /** Text-encoder passes run so far (for progress and tests). */
    int passes();

    @Override
    void close();
}
