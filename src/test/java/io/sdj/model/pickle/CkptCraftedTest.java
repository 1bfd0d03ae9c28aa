package io.sdj.model.pickle;

import io.sdj.model.CkptFile;
import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints built here, legacy and zip, valid and broken, read by {@link CkptFile}. */
class CkptCraftedTest {

    @TempDir
    Path dir;

    private static final byte[] MAGIC_LE = {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
            (byte) 0xa8, 0x50, 0x19};

    /** {"state_dict": {"t": _rebuild_tensor_v2(storage(key, numel), offset, size, stride, False, OrderedDict())}}. */
    private static byte[] statePickle(String storageType, String key, int numel, int offset, int[] size, int[] stride,
                                      boolean legacy) {
        RestrictedUnpicklerTest.P p = new RestrictedUnpicklerTest.P().op(0x80).u8(2).op('}').str("state_dict")
                .op('}').str("t").global("torch._utils", "_rebuild_tensor_v2")
                .op('(').op('(').str("storage").global("torch", storageType).str(key).str("cpu").op('J').u32(numel);
        if (legacy) {
            p.op('N');
        }
        p.op('t').op('Q').op('J').u32(offset).op('(');
        for (int s : size) {
            p.op('J').u32(s);
        }
        p.op('t').op('(');
        for (int s : stride) {
            p.op('J').u32(s);
        }
        p.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('s').op('s')
                .str("global_step").op('J').u32(7).op('s').op('.');
        return p.bytes();
    }

    private Path legacy(byte[] state, String key, long declaredNumel, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new RestrictedUnpicklerTest.P().op(0x80).u8(2).op(0x8a).u8(10).raw(MAGIC_LE).op('.').bytes());
        out.writeBytes(new RestrictedUnpicklerTest.P().op(0x80).u8(2).op('M').u16(1001).op('.').bytes());
        out.writeBytes(new RestrictedUnpicklerTest.P().op(0x80).u8(2).op('}').str("little_endian").op(0x88).op('s')
                .op('.').bytes());
        out.writeBytes(state);
        out.writeBytes(new RestrictedUnpicklerTest.P().op(0x80).u8(2).op(']').str(key).op('a').op('.').bytes());
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredNumel).array());
        out.writeBytes(data);
        Path p = dir.resolve("crafted.ckpt");
        Files.write(p, out.toByteArray());
        return p;
    }

    private static byte[] floats(int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(i);
        }
        return b.array();
    }

    private String refused(Path p) {
        return assertThrows(ModelFormatException.class, () -> CkptFile.open(p).close()).getMessage();
    }

    @Test
    void aLegacyTransposedViewAtAnOffsetReadsRowMajor() throws IOException {
        // storage 0..9, view of size (2, 3) with strides (1, 2) at offset 1: [[1, 3, 5], [2, 4, 6]]
        Path p = legacy(statePickle("FloatStorage", "k", 10, 1, new int[]{2, 3}, new int[]{1, 2}, true), "k", 10,
                floats(10));
        try (CkptFile ck = CkptFile.open(p)) {
            assertEquals(CkptFile.Format.LEGACY, ck.format());
            TensorInfo t = ck.info("t");
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(new long[]{2, 3}, t.shape());
            assertArrayEquals(new float[]{1, 3, 5, 2, 4, 6}, ck.readFloats("t"));
        }
    }

    @Test
    void viewsThatDoNotFitTheirStorageAreRefused() throws IOException {
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 0, new int[]{10}, new int[]{1}, true), "k", 4,
                floats(4))).contains("tensor 't': view [10] with strides [1] at offset 0 does not fit its storage of 4"));
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 3, new int[]{2}, new int[]{1}, true), "k", 4,
                floats(4))).contains("does not fit"));
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 0, new int[]{3}, new int[]{0}, true), "k", 4,
                floats(4))).contains("stride 0 (a broadcast view)"));
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 0, new int[]{4}, new int[]{1}, true), "k", 5,
                floats(5))).contains("holds 5 elements, its id says 4"));
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 0, new int[]{4}, new int[]{1}, true), "k", 4,
                floats(3))).contains("truncated"));
        assertTrue(refused(legacy(statePickle("FloatStorage", "k", 4, 0, new int[]{4}, new int[]{1}, true), "other", 4,
                floats(4))).contains("storage 'other' is listed but no tensor uses it"));
    }

    @Test
    void nonDictsAndForeignFilesAreRefused() throws IOException {
        Path list = dir.resolve("list.pt");
        Files.write(list, new RestrictedUnpicklerTest.P().op(0x80).u8(2).op(0x8a).u8(10).raw(MAGIC_LE).op('.').op(0x80)
                .u8(2).op('M').u16(1001).op('.').op('N').op('.').op(']').op('.').op(']').op('.').bytes());
        assertTrue(refused(list).contains("holds a list, expected a dict of tensors"), refused(list));
        Path plain = dir.resolve("plain.pkl");
        Files.write(plain, new RestrictedUnpicklerTest.P().op(0x80).u8(2).op('}').op('.').bytes());
        assertTrue(refused(plain).contains("does not start with the torch.save magic number"));
        Path protocol = dir.resolve("protocol.pkl");
        Files.write(protocol, new RestrictedUnpicklerTest.P().op(0x80).u8(2).op(0x8a).u8(10).raw(MAGIC_LE).op('.')
                .op('K').u8(7).op('.').bytes());
        assertTrue(refused(protocol).contains("protocol 7 is not supported"));
    }

    private Path zip(String name, byte[] pkl, byte[] data, int method) throws IOException {
        Path p = dir.resolve(name + ".pt");
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            put(z, name + "/data.pkl", pkl, method);
            if (data != null) {
                put(z, name + "/data/k", data, method);
            }
            put(z, name + "/version", "3\n".getBytes(), method);
        }
        return p;
    }

    private static void put(ZipOutputStream z, String name, byte[] b, int method) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(method);
        if (method == ZipEntry.STORED) {
            CRC32 crc = new CRC32();
            crc.update(b);
            e.setSize(b.length);
            e.setCompressedSize(b.length);
            e.setCrc(crc.getValue());
        }
        z.putNextEntry(e);
        z.write(b);
        z.closeEntry();
    }

    @Test
    void zipsWrittenByJavaRead() throws IOException {
        Path p = zip("archive", statePickle("FloatStorage", "k", 6, 0, new int[]{3, 2}, new int[]{1, 3}, false),
                floats(6), ZipEntry.STORED);
        try (CkptFile ck = CkptFile.open(p)) {
            assertEquals(CkptFile.Format.ZIP, ck.format());
            assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, ck.readFloats("t"));
        }
    }

    /** A zip whose every size and offset is in zip64 fields, as torch writes checkpoints over 4 GB. */
    private Path zip64(String name, byte[][] contents, String[] names) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream cd = new ByteArrayOutputStream();
        for (int i = 0; i < names.length; i++) {
            byte[] n = names[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] b = contents[i];
            CRC32 crc = new CRC32();
            crc.update(b);
            long local = out.size();
            ByteBuffer lh = ByteBuffer.allocate(30 + n.length + 20).order(ByteOrder.LITTLE_ENDIAN);
            lh.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) crc.getValue()).putInt(-1).putInt(-1).putShort((short) n.length).putShort((short) 20)
                    .put(n).putShort((short) 1).putShort((short) 16).putLong(b.length).putLong(b.length);
            out.writeBytes(lh.array());
            out.writeBytes(b);
            ByteBuffer ch = ByteBuffer.allocate(46 + n.length + 28).order(ByteOrder.LITTLE_ENDIAN);
            ch.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt((int) crc.getValue()).putInt(-1).putInt(-1).putShort((short) n.length)
                    .putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(-1).put(n).putShort((short) 1).putShort((short) 24).putLong(b.length).putLong(b.length)
                    .putLong(local);
            cd.writeBytes(ch.array());
        }
        long cdOffset = out.size();
        out.writeBytes(cd.toByteArray());
        long z64 = out.size();
        ByteBuffer end = ByteBuffer.allocate(56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
        end.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(names.length).putLong(names.length).putLong(cd.size()).putLong(cdOffset);
        end.putInt(0x07064b50).putInt(0).putLong(z64).putInt(1);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        out.writeBytes(end.array());
        Path p = dir.resolve(name + ".ckpt");
        Files.write(p, out.toByteArray());
        return p;
    }

    @Test
    void zip64CheckpointsRead() throws IOException {
        Path p = zip64("big", new byte[][]{statePickle("FloatStorage", "k", 6, 2, new int[]{2, 2}, new int[]{2, 1},
                false), floats(6), "3\n".getBytes()}, new String[]{"big/data.pkl", "big/data/k", "big/version"});
        try (CkptFile ck = CkptFile.open(p)) {
            assertArrayEquals(new float[]{2, 3, 4, 5}, ck.readFloats("t"));
        }
        byte[] full = Files.readAllBytes(p);
        Path cut = dir.resolve("cut64.ckpt");
        Files.write(cut, java.util.Arrays.copyOf(full, full.length - 30));
        assertTrue(refused(cut).contains("zip"), refused(cut));
    }

    @Test
    void brokenZipsAreRefused() throws IOException {
        byte[] pkl = statePickle("FloatStorage", "k", 6, 0, new int[]{6}, new int[]{1}, false);
        assertTrue(refused(zip("deflated", pkl, floats(6), ZipEntry.DEFLATED)).contains("is compressed"));
        assertTrue(refused(zip("nodata", pkl, null, ZipEntry.STORED)).contains("has no zip entry nodata/data/k"));
        assertTrue(refused(zip("short", pkl, floats(5), ZipEntry.STORED)).contains("storage 'k' has 20 bytes"));
        Path noPkl = dir.resolve("nopkl.zip");
        try (OutputStream os = Files.newOutputStream(noPkl); ZipOutputStream z = new ZipOutputStream(os)) {
            put(z, "readme.txt", new byte[]{1}, ZipEntry.STORED);
        }
        assertTrue(refused(noPkl).contains("no NAME/data.pkl entry"));
        byte[] full = Files.readAllBytes(zip("cut", pkl, floats(6), ZipEntry.STORED));
        Path cut = dir.resolve("cut2.pt");
        for (int n = 4; n < full.length; n += 7) {
            Files.write(cut, java.util.Arrays.copyOf(full, n));
            String m = refused(cut);
            assertTrue(m.contains("zip") || m.contains("truncated"), n + ": " + m);
        }
    }
}
