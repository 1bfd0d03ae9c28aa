package io.sdj.model;

import io.sdj.SdjException;

import java.nio.file.Path;

/**
 * A model file is well formed but holds a model family or layout sdj does not run (yet), for example SD 2.x, SDXL
 * or a diffusers folder. The message says what was recognised and what sdj supports.
 */
public class UnsupportedModelException extends SdjException {
    private final transient Path file;
    private final ModelVersion version;

    public UnsupportedModelException(Path file, ModelVersion version, String detail) {
        super((file == null ? "<unknown file>" : file.toString()) + ": " + detail);
        this.file = file;
        this.version = version;
    }

    /** The file or folder that was rejected. */
    public Path file() {
        return file;
    }

    /** What the file was recognised as ({@link ModelVersion#UNKNOWN} when nothing matched). */
    public ModelVersion version() {
        return version;
    }
}
