package io.sdj.hub;

import java.nio.file.Path;

/**
 * A file's content does not match its checksum: the hub's ETag (SHA-256 of an LFS file, git blob id of a small one)
 * or a digest pinned by the caller. A downloaded file that fails is deleted and never enters the cache.
 */
public class HubChecksumException extends HubException {
    private final Path file;
    private final String expected;
    private final String actual;

    public HubChecksumException(String what, Path file, String algorithm, String expected, String actual) {
        super(what + ": " + algorithm + " is " + actual + ", expected " + expected + " (" + file + ")");
        this.file = file;
        this.expected = expected;
        this.actual = actual;
    }

    /** The file that was checked (removed again if it was a download). */
    public Path file() {
        return file;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
