package io.sdj.model;

import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DTypeTest {

    @Test
    void everyGgmlDTypeIsTheSameGgmlType() {
        for (DType d : DType.values()) {
            if (!d.hasGgmlType()) {
                assertTrue(d == DType.U8 || d == DType.BOOL, d.name());
                continue;
            }
            GgmlType g = GgmlType.valueOf(d.name());
            assertEquals(g.id(), d.ggmlId(), d.name());
            assertEquals(g.blockSize(), d.blockSize(), d.name());
            assertEquals(g.bytesPerBlock(), d.bytesPerBlock(), d.name());
            assertEquals(g.isQuantized(), d.isQuantized(), d.name());
            assertEquals(Optional.of(d), DType.fromGgmlId(g.id()));
        }
        for (GgmlType g : GgmlType.values()) {
            assertEquals(g.name(), DType.fromGgmlId(g.id()).orElseThrow().name(), "GgmlType " + g + " has a DType");
        }
    }

    @Test
    void safetensorsNamesAreOnlyThePlainTypes() {
        assertEquals(Optional.of(DType.BF16), DType.fromHeaderName("BF16"));
        assertEquals(Optional.empty(), DType.fromHeaderName("Q4_0"));
        assertEquals(Optional.empty(), DType.fromHeaderName("Q8_0"));
        assertFalse(DType.supportedNames().contains("Q"));
        assertTrue(DType.ggmlNames().contains("Q4_K"));
    }

    @Test
    void aSafetensorsHeaderCannotDeclareAQuantizedType(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        byte[] json = "{\"a\":{\"dtype\":\"Q8_0\",\"shape\":[32],\"data_offsets\":[0,34]}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + json.length + 34).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        java.nio.file.Path p = dir.resolve("q.safetensors");
        java.nio.file.Files.write(p, b.array());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("unknown or unsupported dtype \"Q8_0\""), e.getMessage());
        assertThrows(io.sdj.InvalidParameterException.class,
                () -> new SafetensorsWriter().add("q", DType.Q8_0, new long[]{32}, new byte[34]));
    }

    @Test
    void blockArithmetic() {
        assertEquals(18, DType.Q4_0.rowBytes(32));
        assertEquals(64 * 210, DType.Q6_K.storageBytes(new long[]{64, 256}));
        assertEquals(2 * 3 * 4 * 2, DType.F16.storageBytes(new long[]{2, 3, 4}));
        assertEquals(4, DType.F32.storageBytes(new long[]{}));
        assertEquals(0, DType.Q8_0.storageBytes(new long[]{0, 64}));
        assertTrue(DType.Q4_0.fitsRow(64));
        assertFalse(DType.Q4_0.fitsRow(48));
        assertThrows(IllegalArgumentException.class, () -> DType.Q4_K.rowBytes(96));
        assertThrows(IllegalArgumentException.class, () -> DType.F32.storageBytes(new long[]{-1, 2}));
        assertThrows(ArithmeticException.class, () -> DType.F32.storageBytes(new long[]{1L << 40, 1L << 40}));
        assertThrows(IllegalStateException.class, DType.Q8_0::byteSize);
        assertEquals(2, DType.BF16.byteSize());
        assertThrows(IllegalStateException.class, DType.BOOL::ggmlId);
    }
}
