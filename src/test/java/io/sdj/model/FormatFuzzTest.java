package io.sdj.model;

import io.sdj.SdjException;
import io.sdj.model.pickle.RestrictedUnpickler;
import io.sdj.model.pickle.ZipDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Mutates real GGUF files, PyTorch checkpoints and pickles (seeded, a few thousand cases) and opens and reads each
 * one in this JVM: every failure must be an {@link SdjException} with a message; nothing else may escape (no
 * IndexOutOfBounds, no OutOfMemoryError, no StackOverflowError, no native crash).
 */
class FormatFuzzTest {
    private static final long SEED = 20261202L;

    @TempDir
    Path dir;

    private static final long[] INTERESTING = {0, 1, -1, 2, 31, 32, 255, 256, 0x7f, 0x80, 0xffff, 0x7fffffffL,
            0xffffffffL, 0x100000000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 1L << 62};

    /** A mutated copy of {@code base}: flipped bytes, an interesting 1/2/4/8-byte value, a cut, or a splice. */
    private static byte[] mutate(byte[] base, Random rnd, int hotEnd) {
        byte[] b = base.clone();
        int kind = rnd.nextInt(10);
        int hot = Math.max(1, Math.min(b.length, hotEnd));
        switch (kind) {
            case 0, 1, 2 -> {
                int n = 1 + rnd.nextInt(8);
                for (int i = 0; i < n; i++) {
                    int at = rnd.nextInt(4) == 0 ? rnd.nextInt(b.length) : rnd.nextInt(hot);
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 3, 4, 5 -> {
                int width = 1 << rnd.nextInt(4);
                int at = rnd.nextInt(Math.max(1, hot - width));
                long v = rnd.nextBoolean() ? INTERESTING[rnd.nextInt(INTERESTING.length)] : rnd.nextLong();
                for (int i = 0; i < width && at + i < b.length; i++) {
                    b[at + i] = (byte) (v >>> (8 * i));
                }
            }
            case 6, 7 -> {
                return Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 8 -> {
                int at = rnd.nextInt(hot);
                int len = 1 + rnd.nextInt(16);
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at);
                for (int i = 0; i < len; i++) {
                    out[at + i] = (byte) rnd.nextInt(256);
                }
                System.arraycopy(b, at, out, at + len, b.length - at);
                return out;
            }
            default -> {
                int at = rnd.nextInt(hot);
                int len = Math.min(b.length - at, 1 + rnd.nextInt(16));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + len, out, at, b.length - at - len);
                return out;
            }
        }
        return b;
    }

    /** Opens and reads everything; returns normally, or throws only SdjException with a message. */
    private static void exercise(Path p) {
        try (TensorSource src = TensorSources.open(p); Arena arena = Arena.ofConfined()) {
            src.metadata();
            for (TensorInfo t : src.tensors().values()) {
                if (t.byteSize() > 64L << 20) {
                    throw new AssertionError(t + " claims more bytes than any fixture has");
                }
                src.read(t, arena.allocate(Math.max(1, t.byteSize())).asSlice(0, t.byteSize()));
                if (t.dtype().isWeightType()) {
                    src.readFloats(t.name());
                }
            }
        }
    }

    private void fuzzFiles(List<Path> bases, int cases, int hotEnd) throws IOException {
        Random rnd = new Random(SEED);
        Path p = dir.resolve("case.bin");
        List<byte[]> contents = new java.util.ArrayList<>();
        for (Path b : bases) {
            contents.add(Files.readAllBytes(b));
        }
        int refused = 0;
        for (int c = 0; c < cases; c++) {
            Path base = bases.get(c % bases.size());
            byte[] mutated = mutate(contents.get(c % bases.size()), rnd, hotEnd);
            Files.write(p, mutated);
            try {
                exercise(p);
            } catch (SdjException e) {
                refused++;
                if (e.getMessage() == null || e.getMessage().isBlank()) {
                    fail("case " + c + " (" + base.getFileName() + "): an exception without a message", e);
                }
            } catch (Throwable t) {
                Path keep = dir.resolve("failing-" + c + ".bin");
                Files.write(keep, mutated);
                fail("case " + c + " (" + base.getFileName() + ") threw " + t, t);
            }
        }
        assertTrue(refused > cases / 4 && refused < cases, refused + " of " + cases + " mutations were refused");
    }

    @Test
    void mutatedGgufFiles() throws IOException {
        Path kv = dir.resolve("kv.gguf");
        Files.write(kv, new GgufFileTest.Raw().header(2, 3).str("general.name").u32(GgufFile.T_STRING).str("tiny")
                .str("list").u32(GgufFile.T_ARRAY).u32(GgufFile.T_STRING).u64(2).str("a").str("b")
                .str("general.alignment").u32(GgufFile.T_UINT32).u32(32)
                .tensor("a", 0, 0, 4, 2).tensor("q", 8, 32, 32).data(32 + 34).build());
        fuzzFiles(List.of(GgufFixtures.file("q4_K"), GgufFixtures.file("f16"), GgufFixtures.file("q8_0"), kv),
                1000, 1400);
    }

    @Test
    void mutatedCheckpoints() throws IOException {
        Path ck = CkptFileTest.dir();
        fuzzFiles(List.of(ck.resolve("tiny_zip.ckpt"), ck.resolve("tiny_bare_state_dict.pt")), 400, 1400);
        fuzzFiles(List.of(ck.resolve("tiny_legacy.ckpt"), ck.resolve("hostile_reduce_os_system.ckpt")), 400, 1600);
    }

    /** A lenient persistent loader: any ('storage', torch.XStorage, key, location, numel) tuple is a storage. */
    private static Object storage(Object pid, long offset) {
        if (pid instanceof io.sdj.model.pickle.Py.Tuple t && t.size() >= 5
                && t.get(1) instanceof io.sdj.model.pickle.Py.Global g && RestrictedUnpickler.storageType(g) != null
                && t.get(2) instanceof String key && t.get(4) instanceof Long n) {
            return new io.sdj.model.pickle.Py.StorageRef(RestrictedUnpickler.storageType(g), key, "cpu", n, 0);
        }
        throw new io.sdj.model.pickle.PickleException(Path.of("fuzz"), "bad persistent id at " + offset);
    }

    @Test
    void mutatedPickles() throws IOException {
        Path zip = CkptFileTest.dir().resolve("tiny_zip.ckpt");
        byte[] pkl;
        try (FileChannel ch = FileChannel.open(zip, StandardOpenOption.READ)) {
            ZipDirectory.Entry e = ZipDirectory.read(zip, ch, ch.size()).entries().get("tiny_zip/data.pkl");
            pkl = Arrays.copyOfRange(Files.readAllBytes(zip), (int) e.dataOffset(), (int) (e.dataOffset() + e.size()));
        }
        Random rnd = new Random(SEED + 1);
        int refused = 0;
        for (int c = 0; c < 2000; c++) {
            byte[] mutated = mutate(pkl, rnd, pkl.length);
            try {
                RestrictedUnpickler.load(ChannelCursor.ofBytes(Path.of("case-" + c + ".pkl"), mutated),
                        FormatFuzzTest::storage);
            } catch (SdjException e) {
                refused++;
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "case " + c);
            } catch (Throwable t) {
                fail("pickle case " + c + " threw " + t, t);
            }
        }
        assertTrue(refused > 500 && refused < 2000, refused + " of 2000 pickle mutations were refused");
    }
}
