package io.sdj.model.pickle;

import io.sdj.model.ModelFormatException;

import java.nio.file.Path;

/**
 * A pickle cannot be read safely: malformed, truncated, over a size or nesting limit, or using an opcode or a
 * construct the restricted unpickler does not allow. The message names the file, the byte offset and the problem.
 */
public class PickleException extends ModelFormatException {
    public PickleException(Path file, String detail) {
        super(file, detail);
    }
}
