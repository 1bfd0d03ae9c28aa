package io.sdj.cli;

import io.sdj.SdjException;

/**
 * The command line itself is wrong: an unknown flag, a flag without its value, a value that is not a number or not
 * one of the accepted names, or a missing required flag. {@link Main} reports it as one line and exits with
 * {@link Main#EXIT_USAGE}.
 */
public class UsageException extends SdjException {
    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
