package io.sdj.hub;

import io.sdj.SdjException;

/**
 * A file could not be resolved from the Hugging Face hub: the hub answered with an error (not found, access denied),
 * the answer was not the hub's (no commit or ETag header, a malformed one), a download broke off, or the cache could
 * not be written. The message names the repository, the file and what to do.
 */
public class HubException extends SdjException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
