package io.sdj.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 and the git blob id (SHA-1 over {@code "blob <size>\0"} and the content) of a file, from one read.
 *
 * @param sha256  lower-case hex SHA-256
 * @param gitBlob lower-case hex git blob id
 */
record FileDigests(String sha256, String gitBlob) {
    private static final int CHUNK = 1 << 20;

    static FileDigests of(Path file) throws IOException {
        long size = Files.size(file);
        MessageDigest sha256 = digest("SHA-256");
        MessageDigest sha1 = digest("SHA-1");
        sha1.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        byte[] buf = new byte[CHUNK];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                sha256.update(buf, 0, n);
                sha1.update(buf, 0, n);
            }
        }
        HexFormat hex = HexFormat.of();
        return new FileDigests(hex.formatHex(sha256.digest()), hex.formatHex(sha1.digest()));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no " + algorithm, e);
        }
    }
}
