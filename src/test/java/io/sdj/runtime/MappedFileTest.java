package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappedFileTest {
    @TempDir
    Path dir;

    @Test
    void mapsCopyOnWriteAndLeavesTheFileAlone() throws Exception {
        Path f = dir.resolve("data.bin");
        byte[] bytes = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        Files.write(f, bytes);
        f.toFile().setReadOnly();
        try (MappedFile m = MappedFile.map(f).orElseThrow()) {
            assertEquals(9, m.segment().byteSize());
            assertEquals(0, m.segment().address() % 4096, "page-aligned");
            assertArrayEquals(bytes, m.segment().toArray(ValueLayout.JAVA_BYTE));
            m.populate(1, 8); // best effort: true on Linux 5.14+, false elsewhere
            assertThrows(IllegalArgumentException.class, () -> m.populate(5, 5));
            m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
            assertEquals(42, m.segment().get(ValueLayout.JAVA_BYTE, 0));
        }
        assertArrayEquals(bytes, Files.readAllBytes(f), "a private mapping never writes back");
    }

    @Test
    void missingAndEmptyFilesAreRefused() throws Exception {
        GgmlException missing = assertThrows(GgmlException.class, () -> MappedFile.map(dir.resolve("nope.bin")));
        assertTrue(missing.getMessage().contains("nope.bin"), missing.getMessage());
        Path empty = Files.createFile(dir.resolve("empty.bin"));
        GgmlException e = assertThrows(GgmlException.class, () -> MappedFile.map(empty));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }
}
