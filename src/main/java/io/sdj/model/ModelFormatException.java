package io.sdj.model;

import io.sdj.SdjException;

import java.nio.file.Path;

/**
 * A model file is malformed or does not have the layout sdj expects: a truncated or invalid safetensors header, a
 * tensor whose offsets, dtype or shape are wrong, or a tensor that a component needs but the file lacks. The message
 * names the file, the tensor (where there is one) and what was expected.
 */
public class ModelFormatException extends SdjException {
    private final transient Path file;
    private final String tensor;

    /** A problem with the file as a whole (header, size, layout). */
    public ModelFormatException(Path file, String detail) {
        this(file, null, detail, null);
    }

    /** A problem with one tensor; {@code tensor} may be null when the problem is not tied to a tensor. */
    public ModelFormatException(Path file, String tensor, String detail) {
        this(file, tensor, detail, null);
    }

    public ModelFormatException(Path file, String tensor, String detail, Throwable cause) {
        super(format(file, tensor, detail), cause);
        this.file = file;
        this.tensor = tensor;
    }

    private static String format(Path file, String tensor, String detail) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<unknown file>" : file.toString());
        if (tensor != null) {
            sb.append(": tensor '").append(tensor).append('\'');
        }
        return sb.append(": ").append(detail).toString();
    }

    /** The model file the problem was found in (may be null for in-memory data). */
    public Path file() {
        return file;
    }

    /** The tensor the problem concerns, or null when it concerns the file as a whole. */
    public String tensor() {
        return tensor;
    }
}
