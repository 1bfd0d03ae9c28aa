package io.sdj.runtime;

import io.sdj.SdjException;

/** The native ggml runtime could not be found or loaded; the message says where sdj looked and what to do. */
public class RuntimeUnavailableException extends SdjException {
    public RuntimeUnavailableException(String message) {
        super(message);
    }
}
