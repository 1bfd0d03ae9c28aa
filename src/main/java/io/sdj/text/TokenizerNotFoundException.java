package io.sdj.text;

import io.sdj.SdjException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** No tokenizer files were found next to a model; the message lists every place that was searched. */
public class TokenizerNotFoundException extends SdjException {
    private final List<Path> searched;

    public TokenizerNotFoundException(Path model, List<Path> searched) {
        super("no CLIP tokenizer found for model " + model + "; looked for "
                + searched.stream().map(Path::toString).collect(Collectors.joining(", "))
                + " (copy the CLIP merges.txt there, e.g. a diffusers tokenizer/ folder)");
        this.searched = List.copyOf(searched);
    }

    /** The candidate files that were checked, in search order. */
    public List<Path> searched() {
        return searched;
    }
}
