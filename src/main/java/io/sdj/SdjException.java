package io.sdj;

/**
 * Base of every error sdj reports. Subclasses name what was wrong (a file, a tensor, a parameter) and what was
 * expected, so that a caller can show the message as it is.
 */
public class SdjException extends RuntimeException {
    public SdjException(String message) {
        super(message);
    }

    public SdjException(String message, Throwable cause) {
        super(message, cause);
    }
}
