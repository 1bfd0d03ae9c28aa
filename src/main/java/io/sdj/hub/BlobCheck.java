package io.sdj.hub;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a hub ETag says about a file's content. The hub's ETag is the SHA-256 of the file for LFS files (64 hex
 * digits) and the git blob id, SHA-1 of {@code "blob <size>\0" + content}, for files stored in git (40 hex digits);
 * anything else cannot be checked.
 */
sealed interface BlobCheck {
    Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    Pattern HEX40 = Pattern.compile("[0-9a-fA-F]{40}");

    /** The check an ETag allows. */
    static BlobCheck fromEtag(String etag) {
        if (HEX64.matcher(etag).matches()) {
            return new Sha256(etag.toLowerCase(Locale.ROOT));
        }
        if (HEX40.matcher(etag).matches()) {
            return new GitBlob(etag.toLowerCase(Locale.ROOT));
        }
        return new Unchecked();
    }

    /** An LFS file: the ETag is its SHA-256. */
    record Sha256(String hex) implements BlobCheck {
    }

    /** A file in git: the ETag is its git blob id. */
    record GitBlob(String hex) implements BlobCheck {
    }

    /** An ETag of another form. */
    record Unchecked() implements BlobCheck {
    }
}
