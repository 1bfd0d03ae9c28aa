package io.sdj.model;

import io.sdj.SdjException;

import java.nio.file.Path;

/**
 * A model file is well formed but holds a model family or layout sdj does not run (yet), for example SD 3, FLUX or an
 * inpainting U-Net. The message says what was recognised and what sdj supports.
 */
public class UnsupportedModelException extends SdjException {
    private final transient Path file;
    private final String recognisedAs;

    /**
     * @param recognisedAs what the file was recognised as ("SD 3", "SDXL refiner", "diffusers folder", ...), or
     *                     "unknown" when nothing matched
     */
    public UnsupportedModelException(Path file, String recognisedAs, String detail) {
        super((file == null ? "<unknown file>" : file.toString()) + ": " + detail);
        this.file = file;
        this.recognisedAs = recognisedAs;
    }

    /** The file or folder that was rejected. */
    public Path file() {
        return file;
    }

    /** What the file was recognised as ("unknown" when nothing matched). */
    public String recognisedAs() {
        return recognisedAs;
    }
}
