package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeWithMetadataAndOrder() throws IOException {
        float[] f = {0f, 1f, -2.5f, 0.1f, 65504f, -1e-3f};
        Path p = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .metadata("note", "ünïcode \"quoted\"")
                .addFloats("z.f32", DType.F32, new long[]{2, 3}, f)
                .addFloats("a.f16", DType.F16, new long[]{6}, f)
                .addFloats("m.bf16", DType.BF16, new long[]{3, 2}, f)
                .addLongs("ids", new long[]{1, 3}, new long[]{0, 1, Long.MAX_VALUE})
                .addInts("scalar", new long[]{}, new int[]{7})
                .add("bytes", DType.U8, new long[]{3}, new byte[]{1, 2, 3})
                .add("flags", DType.BOOL, new long[]{2}, new byte[]{0, 1})
                .add("empty", DType.F64, new long[]{0, 5}, new byte[0])
                .write(p);
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            assertEquals(List.of("z.f32", "a.f16", "m.bf16", "ids", "scalar", "bytes", "flags", "empty"),
                    List.copyOf(st.tensors().keySet()));
            assertEquals(Map.of("format", "pt", "note", "ünïcode \"quoted\""), st.metadata());
            assertArrayEquals(f, st.readFloats("z.f32"));
            float[] h = st.readFloats("a.f16");
            for (int i = 0; i < f.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(f[i])), h[i]);
            }
            float[] b = st.readFloats("m.bf16");
            assertEquals(-2.5f, b[2]);
            assertEquals(0.1f, b[3], 0.001f);
            TensorInfo ids = st.info("ids");
            assertEquals(DType.I64, ids.dtype());
            assertArrayEquals(new long[]{1, 3}, ids.shape());
            assertEquals(24, ids.byteSize());
            MemorySegment seg = st.data("ids");
            assertEquals(Long.MAX_VALUE, seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2));
            assertTrue(seg.isReadOnly());
            assertEquals(0, st.info("scalar").rank());
            assertEquals(1, st.info("scalar").elementCount());
            assertEquals(7, st.data("scalar").get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            assertEquals(0, st.info("empty").byteSize());
            assertEquals(3, st.data("bytes").get(ValueLayout.JAVA_BYTE, 2));
            assertEquals(0, (st.dataStart() - 8) % 8, "header padded to 8 bytes");
            assertEquals(Files.size(p), st.fileSize());
            assertEquals(st.fileSize(), st.info("empty").offset());
            // offsets are absolute: the whole-file segment holds the same bytes
            assertEquals(st.segment().get(ValueLayout.JAVA_BYTE, st.info("bytes").offset() + 1), 2);
        }
    }

    @Test
    void closeUnmapsAndIsIdempotent() {
        Path p = dir.resolve("c.safetensors");
        new SafetensorsWriter().addFloats("x", DType.F32, new long[]{2}, new float[]{1, 2}).write(p);
        SafetensorsFile st = SafetensorsFile.open(p);
        MemorySegment seg = st.data("x");
        st.close();
        st.close();
        assertFalse(st.isOpen());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> st.data("x"));
    }

    @Test
    void readFloatsRejectsIntegerTensorsAndUnknownNames() {
        Path p = dir.resolve("i.safetensors");
        new SafetensorsWriter().addLongs("ids", new long[]{2}, new long[]{1, 2}).write(p);
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.readFloats("ids"));
            assertEquals("ids", e.tensor());
            assertTrue(e.getMessage().contains("has dtype I64"), e.getMessage());
            ModelFormatException m = assertThrows(ModelFormatException.class, () -> st.info("nope"));
            assertEquals("nope", m.tensor());
            assertTrue(m.getMessage().contains("not in the file"));
            assertTrue(st.find("nope").isEmpty());
        }
    }

    // ---------------------------------------------------------------------------------------------- errors

    /** A file with the given header JSON (unpadded) and {@code dataBytes} zero bytes of data. */
    private Path raw(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private ModelFormatException fails(Path p) {
        return assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(p).close());
    }

    private static void assertMessage(ModelFormatException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void missingFile() {
        ModelFormatException e = fails(dir.resolve("absent.safetensors"));
        assertMessage(e, "absent.safetensors", "file not found");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 2, 3});
        ModelFormatException e = fails(p);
        assertMessage(e, "short.safetensors", "truncated", "3 bytes");
        assertEquals(p, e.file());
    }

    @Test
    void truncatedHeader() throws IOException {
        Path p = raw("th.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(all, 20));
        assertMessage(fails(p), "truncated", "header length", "the file has 20");
    }

    @Test
    void implausibleHeaderLength() throws IOException {
        Path p = dir.resolve("huge.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertMessage(fails(p), "header length", "not plausible");
    }

    @Test
    void badJson() throws IOException {
        assertMessage(fails(raw("bad.safetensors", "{\"a\":{\"dtype\":\"F32\",}}", 0)), "invalid JSON header",
                "character");
        assertMessage(fails(raw("nobrace.safetensors", "[1,2]", 0)), "does not start with '{'");
        assertMessage(fails(raw("trail.safetensors", "{} {}", 0)), "invalid JSON header");
    }

    @Test
    void headerNotUtf8() throws IOException {
        Path p = dir.resolve("latin.safetensors");
        byte[] h = {'{', '"', (byte) 0xff, '"', ':', '1', '}'};
        Files.write(p, ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
        assertMessage(fails(p), "not valid UTF-8");
    }

    @Test
    void unknownDtype() throws IOException {
        ModelFormatException e = fails(raw("dt.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
        assertEquals("w", e.tensor());
        assertMessage(e, "tensor 'w'", "unknown or unsupported dtype \"F8_E4M3\"", "BF16");
    }

    @Test
    void missingFieldsAndWrongTypes() throws IOException {
        assertMessage(fails(raw("m1.safetensors", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8)), "'w'", "missing \"dtype\"");
        assertMessage(fails(raw("m2.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8)), "missing \"shape\"");
        assertMessage(fails(raw("m3.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8)), "missing \"data_offsets\"");
        assertMessage(fails(raw("m4.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)),
                "\"shape\"[0] must be a non-negative integer, found -2");
        assertMessage(fails(raw("m5.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8)),
                "found 2.0");
        assertMessage(fails(raw("m6.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8)),
                "must be [begin, end]");
        assertMessage(fails(raw("m7.safetensors", "{\"w\":[1]}", 0)), "'w'", "must be an object");
        assertMessage(fails(raw("m8.safetensors", "{\"__metadata__\":{\"a\":1}}", 0)), "__metadata__ entry 'a' must be a string");
    }

    @Test
    void offsetsPastEndOfFile() throws IOException {
        ModelFormatException e = fails(raw("eof.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 12));
        assertEquals("b", e.tensor());
        assertMessage(e, "data_offsets [8, 24] run past the end of the data (12 bytes", "truncated");
    }

    @Test
    void sizeDoesNotMatchShapeAndDtype() throws IOException {
        ModelFormatException e = fails(raw("size.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,48]}}", 48));
        assertEquals("w", e.tensor());
        assertMessage(e, "shape [3, 4] with dtype F16 needs 24 bytes but data_offsets [0, 48] span 48");
    }

    @Test
    void endBeforeBegin() throws IOException {
        assertMessage(fails(raw("rev.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 8)),
                "end before they begin");
    }

    @Test
    void overlappingTensors() throws IOException {
        ModelFormatException e = fails(raw("ovl.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        assertEquals("b", e.tensor());
        assertMessage(e, "overlap tensor 'a'");
    }

    @Test
    void shapeOverflow() throws IOException {
        assertMessage(fails(raw("ovf.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0)), "too large");
    }

    @Test
    void directoryIsNotAFile() {
        assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(dir).close());
    }
}
