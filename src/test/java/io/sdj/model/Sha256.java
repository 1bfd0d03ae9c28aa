package io.sdj.model;

import io.sdj.SdjException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Test support: SHA-256 of files, streamed in 8 MiB chunks (a multi-GB file needs no more heap than that). */
public final class Sha256 {
    private static final int CHUNK = 8 << 20;

    private Sha256() {
    }

    /** Lower-case hex SHA-256 of a file's contents. */
    public static String of(Path file) {
        MessageDigest md = newDigest();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        } catch (NoSuchFileException e) {
            throw new SdjException(file + ": file not found");
        } catch (IOException e) {
            throw new SdjException(file + ": cannot read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Lower-case hex SHA-256 of bytes. */
    public static String of(byte[] data) {
        return HexFormat.of().formatHex(newDigest().digest(data));
    }

    /**
     * Checks a file's digest.
     *
     * @throws ModelFormatException if it differs, naming both digests
     */
    public static void verify(Path file, String expectedHex) {
        String actual = of(file);
        if (!actual.equalsIgnoreCase(expectedHex)) {
            throw new ModelFormatException(file, "sha256 is " + actual + ", expected " + expectedHex.toLowerCase());
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
