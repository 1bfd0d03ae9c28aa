package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Sha256Test {
    @TempDir
    Path dir;

    @Test
    void knownVectors() throws IOException {
        Path p = Files.writeString(dir.resolve("abc"), "abc", StandardCharsets.US_ASCII);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.of(p));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.of(new byte[0]));
        Sha256.verify(p, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sha256.verify(p, "00"));
        assertTrue(e.getMessage().contains("sha256 is ba7816bf"), e.getMessage());
    }

    @Test
    void goldenCheckRejectsAWrongFileWithoutHashingIt() throws IOException {
        Path p = Files.writeString(dir.resolve(GoldenCheckpoint.FILE_NAME), "not it");
        assertFalse(GoldenCheckpoint.isVerified(p));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GoldenCheckpoint.verify(p));
        assertTrue(e.getMessage().contains("size is 6 bytes"), e.getMessage());
    }
}
