package io.sdj.model.pickle;

import java.nio.file.Path;

/**
 * A pickle names a global (a Python function or class) outside the allowed set. Loading it with a full unpickler
 * would import and possibly call it, i.e. run code from the file; sdj refuses the whole file instead.
 */
public final class DisallowedGlobalException extends PickleException {
    private final String global;

    public DisallowedGlobalException(Path file, String global, long offset) {
        super(file, "refused: the pickle at byte " + offset + " names the global '" + global
                + "', which is not among the allowed tensor-rebuilding globals (" + RestrictedUnpickler.allowedGlobals()
                + "); loading it would run code from the file");
        this.global = global;
    }

    /** The refused global as "module.name", e.g. "posix.system". */
    public String global() {
        return global;
    }
}
