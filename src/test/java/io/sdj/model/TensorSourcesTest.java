package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorSourcesTest {

    @TempDir
    Path dir;

    @Test
    void opensByContentNotByName() throws IOException {
        Path gguf = dir.resolve("model.safetensors");
        Files.copy(GgufFixtures.file("q4_0"), gguf);
        Path st = dir.resolve("model.gguf");
        Files.copy(GgufFixtures.source(), st);
        Path ck = dir.resolve("model.bin");
        Files.copy(CkptFileTest.dir().resolve("tiny_zip.ckpt"), ck);
        try (TensorSource a = TensorSources.open(gguf); TensorSource b = TensorSources.open(st);
             TensorSource c = TensorSources.open(ck)) {
            assertInstanceOf(GgufFile.class, a);
            assertInstanceOf(SafetensorsFile.class, b);
            assertInstanceOf(CkptFile.class, c);
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
        }
        assertEquals(TensorSources.Form.GGUF, TensorSources.detect(gguf));
        assertEquals(TensorSources.Form.SAFETENSORS, TensorSources.detect(st));
    }

    @Test
    void anythingElseIsOneClearError() throws IOException {
        Path png = dir.resolve("x.safetensors");
        Files.write(png, new byte[]{(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TensorSources.open(png));
        assertTrue(e.getMessage().contains("not a model file sdj reads") && e.getMessage().contains("89504e47"),
                e.getMessage());
        Path empty = dir.resolve("empty.ckpt");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(ModelFormatException.class, () -> TensorSources.open(empty)).getMessage()
                .contains("empty file"));
        assertTrue(assertThrows(ModelFormatException.class, () -> TensorSources.open(dir.resolve("none")))
                .getMessage().contains("file not found"));
        assertTrue(assertThrows(ModelFormatException.class, () -> TensorSources.open(dir)).getMessage()
                .contains("is a directory"));
    }
}
