package io.sdj.runtime;

import io.sdj.SdjException;

/** A backend name that matches no ggml device; the message lists the devices that exist. */
public class UnknownBackendException extends SdjException {
    public UnknownBackendException(String message) {
        super(message);
    }
}
