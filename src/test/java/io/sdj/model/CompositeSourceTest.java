package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompositeSourceTest {
    @TempDir
    Path dir;

    private Path file(String name, String... tensors) {
        SafetensorsWriter w = new SafetensorsWriter();
        float v = 0;
        for (String t : tensors) {
            String[] p = t.split(":");
            String[] dims = p[1].split("x");
            long[] shape = new long[dims.length];
            int n = 1;
            for (int i = 0; i < dims.length; i++) {
                shape[i] = Long.parseLong(dims[i]);
                n *= (int) shape[i];
            }
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = ++v;
            }
            w.addFloats(p[0], DType.F32, shape, values);
        }
        Path f = dir.resolve(name);
        w.metadata("from", name);
        w.write(f);
        return f;
    }

    @Test
    void copiesReshapesFusesAndTransposes() {
        try (SafetensorsFile a = SafetensorsFile.open(file("a.safetensors", "q:2x3", "k:2x3", "v:2x3", "m:2x3"))) {
            CompositeSource.Builder b = CompositeSource.builder(dir).metadata(a.metadata());
            b.copy("x.q", a, a.tensors().get("q"));
            b.reshape("x.conv", a, a.tensors().get("m"), 2, 3, 1, 1);
            b.concatRows("x.in_proj", a, List.of(a.tensors().get("q"), a.tensors().get("k"), a.tensors().get("v")));
            b.transpose("x.proj", a, a.tensors().get("m"));
            b.identity("x.eye", a, 3);
            try (CompositeSource c = b.build()) {
                assertEquals(dir, c.path());
                assertEquals("a.safetensors", c.metadata().get("from"));
                assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, c.readFloats("x.q"));
                assertTrue(c.tensors().get("x.conv").hasShape(2, 3, 1, 1));
                assertArrayEquals(new float[]{19, 20, 21, 22, 23, 24}, c.readFloats("x.conv"));
                assertTrue(c.tensors().get("x.in_proj").hasShape(6, 3));
                float[] fused = c.readFloats("x.in_proj");
                assertEquals(18, fused.length);
                for (int i = 0; i < 18; i++) {
                    assertEquals(i + 1, fused[i]);
                }
                assertTrue(c.tensors().get("x.proj").hasShape(3, 2));
                assertArrayEquals(new float[]{19, 22, 20, 23, 21, 24}, c.readFloats("x.proj"));
                assertArrayEquals(new float[]{1, 0, 0, 0, 1, 0, 0, 0, 1}, c.readFloats("x.eye"));
                assertEquals(a.path(), c.fileOf("x.q"));
            }
        }
    }

    @Test
    void aNameOfferedTwiceIsRefusedNamingBothFiles() {
        try (SafetensorsFile a = SafetensorsFile.open(file("a.safetensors", "w:2x2"));
             SafetensorsFile b = SafetensorsFile.open(file("b.safetensors", "w:2x2"))) {
            CompositeSource.Builder c = CompositeSource.builder(dir);
            c.copy("model.w", a, a.tensors().get("w"));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> c.copy("model.w", b, b.tensors().get("w")));
            assertTrue(e.getMessage().contains("b.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("a.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("model.w"), e.getMessage());
            assertEquals(1, c.dropPrefix("model."));
            assertFalse(c.contains("model.w"));
            c.copy("model.w", b, b.tensors().get("w"));
            assertTrue(c.contains("model.w"));
        }
    }

    @Test
    void mismatchedPartsAreRefused() {
        try (SafetensorsFile a = SafetensorsFile.open(file("a.safetensors", "q:2x3", "k:2x4", "v:6"))) {
            CompositeSource.Builder c = CompositeSource.builder(dir);
            assertThrows(ModelFormatException.class, () -> c.concatRows("f", a, List.of(a.tensors().get("q"), a.tensors().get("k"))));
            assertThrows(ModelFormatException.class, () -> c.concatRows("f", a, List.of(a.tensors().get("q"), a.tensors().get("v"))));
            assertThrows(ModelFormatException.class, () -> c.reshape("r", a, a.tensors().get("q"), 5, 1));
            assertThrows(ModelFormatException.class, () -> c.transpose("t", a, a.tensors().get("v")));
            assertThrows(ModelFormatException.class, () -> c.identity("i", a, 0));
        }
    }

    @Test
    void ownedPartsCloseWithTheComposite() {
        SafetensorsFile a = SafetensorsFile.open(file("a.safetensors", "w:2"));
        CompositeSource c = CompositeSource.builder(dir).own(a).copy("w", a, a.tensors().get("w")).build();
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.readFloats("w"));
        assertThrows(ModelFormatException.class, () -> CompositeSource.builder(dir).build().readFloats("none"));
    }
}
