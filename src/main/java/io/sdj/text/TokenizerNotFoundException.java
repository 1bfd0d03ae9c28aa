package io.sdj.text;

import io.sdj.SdjException;
import io.sdj.hub.HubNotCachedException;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A model has no tokenizer files of its own and CLIP's could not be had from the hub: they are not in the Hugging
 * Face cache and offline mode is on or the hub cannot be reached. The message lists the places searched and every
 * way to provide the files.
 */
public class TokenizerNotFoundException extends SdjException {
    private final List<Path> searched;

    public TokenizerNotFoundException(Path model, List<Path> searched, HubNotCachedException hub) {
        super("no CLIP tokenizer for model " + model + ": there are no tokenizer files beside it (looked for "
                + searched.stream().map(Path::toString).collect(Collectors.joining(", ")) + "), and CLIP's "
                + TokenizerFiles.VOCAB_JSON + " and " + TokenizerFiles.MERGES_TXT + " (hf://" + TokenizerFiles.CLIP_REPO
                + ") could not be had: " + hub.getMessage() + ". Provide them in one of these ways: give them with "
                + "--tokenizer PATH (a merges.txt, or a folder holding merges.txt and vocab.json such as a diffusers "
                + "tokenizer/ folder; StableDiffusion.Builder.tokenizer in the API); put a tokenizer/ folder beside "
                + "the model; or let sdj download them once into the Hugging Face cache (HF_HOME, HF_HUB_CACHE), "
                + "which needs network access to " + hub.settings().endpoint() + " and HF_HUB_OFFLINE unset; a cache "
                + "filled by Python's huggingface_hub (e.g. hf download " + TokenizerFiles.CLIP_REPO + " vocab.json "
                + "merges.txt) works as well", hub);
        this.searched = List.copyOf(searched);
    }

    /** The local candidate files that were checked, in search order. */
    public List<Path> searched() {
        return searched;
    }
}
