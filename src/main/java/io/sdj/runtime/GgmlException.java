package io.sdj.runtime;

import io.sdj.SdjException;

/** A ggml call failed or was refused (allocation failure, compute error, invalid tensor shapes). */
public class GgmlException extends SdjException {
    public GgmlException(String message) {
        super(message);
    }
}
