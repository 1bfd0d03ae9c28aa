package io.sdj.model.pickle;

import io.sdj.model.ChannelCursor;
import io.sdj.model.DType;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pickles written byte by byte: every opcode the restricted unpickler accepts, then hostile ones (code-running
 * globals, calls on disallowed callables, deep nesting, huge lengths, truncation).
 */
class RestrictedUnpicklerTest {
    private static final Path FILE = Path.of("test.pkl");

    /** The opcodes the unpickler accepts; {@link #everyAcceptedOpcodeIsCovered} checks the tests use them all. */
    private static final Set<Integer> ACCEPTED = Set.of(0x80, 0x95, (int) '(', (int) '0', (int) '1', (int) '2',
            (int) 'N', 0x88, 0x89, (int) 'J', (int) 'K', (int) 'M', 0x8a, 0x8b, (int) 'I', (int) 'L', (int) 'F',
            (int) 'G', (int) 'X', 0x8c, 0x8d, (int) 'V', (int) 'T', (int) 'U', (int) 'S', (int) 'B', (int) 'C', 0x8e,
            0x96, (int) ')', 0x85, 0x86, 0x87, (int) 't', (int) ']', (int) 'l', (int) 'a', (int) 'e', (int) '}',
            (int) 'd', (int) 's', (int) 'u', 0x8f, 0x90, 0x91, (int) 'p', (int) 'q', (int) 'r', 0x94, (int) 'g',
            (int) 'h', (int) 'j', (int) 'c', 0x93, (int) 'R', 0x81, 0x92, (int) 'b', (int) 'P', (int) 'Q', (int) '.');

    private static final Set<Integer> USED = new java.util.concurrent.ConcurrentSkipListSet<>();

    /** A pickle under construction. */
    static final class P {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        P op(int code) {
            USED.add(code);
            out.write(code);
            return this;
        }

        P raw(byte... b) {
            out.writeBytes(b);
            return this;
        }

        P u8(int v) {
            out.write(v);
            return this;
        }

        P u16(int v) {
            return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array());
        }

        P u32(long v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        P u64(long v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        P line(String s) {
            return raw((s + "\n").getBytes(StandardCharsets.ISO_8859_1));
        }

        /** BINUNICODE. */
        P str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return op('X').u32(b.length).raw(b);
        }

        P small(int v) {
            return op('K').u8(v);
        }

        P global(String module, String name) {
            return op('c').line(module).line(name);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** Persistent ids become storages of the tagged type. */
    private static Object load(byte[] bytes) {
        return RestrictedUnpickler.load(ChannelCursor.ofBytes(FILE, bytes), (pid, off) -> {
            if (pid instanceof String s) {
                return "pid:" + s;
            }
            Py.Tuple t = (Py.Tuple) pid;
            return new Py.StorageRef(RestrictedUnpickler.storageType((Py.Global) t.get(1)), (String) t.get(2),
                    (String) t.get(3), (Long) t.get(4), 0);
        });
    }

    private static PickleException refused(P p) {
        return assertThrows(PickleException.class, () -> load(p.bytes()));
    }

    private static void refusedWith(String fragment, P p) {
        String m = refused(p).getMessage();
        assertTrue(m.contains(fragment), "message '" + m + "' lacks '" + fragment + "'");
        assertTrue(m.startsWith(FILE + ": "), m);
    }

    @Test
    void scalarsOfEveryEncoding() {
        P p = new P().op(0x80).u8(4).op(0x95).u64(0).op('(')
                .op('N').op(0x88).op(0x89)
                .op('J').u32(-5).op('K').u8(200).op('M').u16(60000)
                .op(0x8a).u8(0)
                .op(0x8b).u32(3).raw((byte) 0x00, (byte) 0x80, (byte) 0x00)
                .op('I').line("-12").op('I').line("01").op('L').line("123456789012345678901234567890L")
                .op('F').line("2.5").op('G').raw(ByteBuffer.allocate(8).putDouble(-0.125).array())
                .op('X').u32(3).raw("abc".getBytes(StandardCharsets.UTF_8))
                .op(0x8c).u8(2).raw("é".getBytes(StandardCharsets.UTF_8))
                .op(0x8d).u64(1).raw((byte) 'z')
                .op('V').line("x\\u00e9y")
                .op('T').u32(2).raw((byte) 'h', (byte) 0xe9)
                .op('U').u8(1).raw((byte) 'q')
                .op('S').line("'it\\'s'")
                .op('B').u32(2).raw((byte) 1, (byte) 2)
                .op('C').u8(1).raw((byte) 3)
                .op(0x8e).u64(1).raw((byte) 4)
                .op(0x96).u64(0)
                .op('l').op('.');
        Py.PyList l = assertInstanceOf(Py.PyList.class, load(p.bytes()));
        List<Object> v = l.items();
        assertNull(v.get(0));
        assertEquals(List.of(true, false, -5L, 200L, 60000L, 0L, 32768L, -12L, true), v.subList(1, 10));
        assertEquals(new BigInteger("123456789012345678901234567890"), v.get(10));
        assertEquals(List.of(2.5, -0.125, "abc", "é", "z", "xéy", "hé", "q", "it's"), v.subList(11, 20));
        assertArrayEquals(new byte[]{1, 2}, (byte[]) v.get(20));
        assertArrayEquals(new byte[]{3}, (byte[]) v.get(21));
        assertArrayEquals(new byte[]{4}, (byte[]) v.get(22));
        assertArrayEquals(new byte[0], (byte[]) v.get(23));
    }

    @Test
    void theTorchMagicNumberIsALong1() {
        byte[] le = {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
        P p = new P().op(0x80).u8(2).op(0x8a).u8(10).raw(le).op('.');
        assertEquals(new BigInteger("1950a86a20f9469cfc6c", 16), load(p.bytes()));
    }

    @Test
    void containersMemoAndStack() {
        P p = new P().op(0x80).u8(2).op('}').op('q').u8(0)
                .str("t0").op(')').op('s')
                .str("t1").small(1).op(0x85).op('s')
                .str("t23").op('(').small(1).small(2).op(0x86).small(3).small(4).small(5).op(0x87).op('t').op('s')
                .op('(').str("list").op(']').small(1).op('a').op('(').small(2).small(3).op('e')
                .str("set").op(0x8f).op('(').small(5).small(5).op(0x90)
                .str("frozen").op('(').small(7).op(0x91)
                .str("dict").op('(').str("k").small(9).op('d')
                .str("memo").op('h').u8(0).op('r').u32(7).op('0').op('j').u32(7).op('p').line("9").op('g').line("9")
                .op(0x94).op('0')
                .str("dup").small(4).op('2').op(0x86)
                .str("popmark").op('(').small(1).small(2).op('1').small(6)
                .op('u').op('.');
        Py.PyDict d = assertInstanceOf(Py.PyDict.class, load(p.bytes()));
        Map<Object, Object> m = d.items();
        assertEquals(0, ((Py.Tuple) m.get("t0")).size());
        assertEquals(List.of(1L), ((Py.Tuple) m.get("t1")).items());
        Py.Tuple t23 = (Py.Tuple) m.get("t23");
        assertEquals(2, t23.size());
        assertEquals(List.of(1L, 2L), ((Py.Tuple) t23.get(0)).items());
        assertEquals(List.of(3L, 4L, 5L), ((Py.Tuple) t23.get(1)).items());
        assertEquals(List.of(1L, 2L, 3L), ((Py.PyList) m.get("list")).items());
        assertEquals(Set.of(5L), ((Py.PySet) m.get("set")).items());
        assertEquals(Set.of(7L), ((Py.PySet) m.get("frozen")).items());
        assertEquals(Map.of("k", 9L), ((Py.PyDict) m.get("dict")).items());
        assertEquals(d, m.get("memo"), "memo 0 is the dict itself");
        assertEquals(List.of(4L, 4L), ((Py.Tuple) m.get("dup")).items());
        assertEquals(6L, m.get("popmark"));
    }

    /** What torch.save writes for one tensor in a state dict, with every call opcode. */
    @Test
    void torchTensorsStoragesAndOrderedDicts() {
        P p = new P().op(0x80).u8(4)
                .global("collections", "OrderedDict").op(')').op('R')
                .str("w")
                .global("torch._utils", "_rebuild_tensor_v2")
                .op('(').op('(').str("storage").global("torch", "HalfStorage").str("0").str("cpu").small(12)
                .op('t').op('Q')
                .small(2).small(3).small(4).op(0x86).small(1).small(3).op(0x86).op(0x89)
                .global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                .op('s')
                .str("p")
                .global("torch._utils", "_rebuild_parameter")
                .global("torch._utils", "_rebuild_tensor")
                .op('(')
                .op('(').str("storage").str("torch").str("FloatStorage").op(0x93).str("1").str("cpu").small(4)
                .op('t').op('Q')
                .small(0).small(4).op(0x85).small(1).op(0x85)
                .op('t').op('R')
                .op(0x88).global("collections", "OrderedDict").op(')').op('R').op(0x87).op('R')
                .op('s')
                .str("size").global("torch", "Size").small(2).small(3).op(0x86).op(0x85).op('R').op('s')
                .str("new").global("collections", "OrderedDict").op(')').op(0x81).op('s')
                .str("newex").global("collections", "OrderedDict").op(')').op('}').op(0x92).op('s')
                .str("pid").op('P').line("abc").op('s')
                .op('}').str("_metadata").op('}').op('s').op('b')
                .op('.');
        Py.PyDict d = assertInstanceOf(Py.PyDict.class, load(p.bytes()));
        Py.TensorRef w = assertInstanceOf(Py.TensorRef.class, d.get("w"));
        assertEquals(DType.F16, w.storage().dtype());
        assertEquals("0", w.storage().key());
        assertEquals(12, w.storage().numel());
        assertEquals(2, w.storageOffset());
        assertArrayEquals(new long[]{3, 4}, w.size());
        assertArrayEquals(new long[]{1, 3}, w.stride());
        Py.TensorRef param = assertInstanceOf(Py.TensorRef.class, d.get("p"));
        assertEquals(DType.F32, param.storage().dtype());
        assertArrayEquals(new long[]{4}, param.size());
        assertEquals(List.of(2L, 3L), ((Py.Tuple) d.get("size")).items());
        assertInstanceOf(Py.PyDict.class, d.get("new"));
        assertInstanceOf(Py.PyDict.class, d.get("newex"));
        assertEquals("pid:abc", d.get("pid"));
    }

    @Test
    void everyAcceptedOpcodeIsCovered() {
        scalarsOfEveryEncoding();
        containersMemoAndStack();
        torchTensorsStoragesAndOrderedDicts();
        TreeSet<String> missing = new TreeSet<>();
        for (int op : ACCEPTED) {
            if (!USED.contains(op)) {
                missing.add(Integer.toHexString(op));
            }
        }
        assertEquals(Set.of(), missing, "accepted opcodes no test pickle uses");
    }

    // ---- hostile pickles ----

    @Test
    void codeRunningGlobalsAreRefusedByName() {
        for (String[] g : new String[][]{{"os", "system"}, {"posix", "system"}, {"builtins", "eval"},
                {"builtins", "exec"}, {"subprocess", "Popen"}, {"torch", "load"}, {"torch._utils", "eval"},
                {"__builtin__", "getattr"}, {"collections", "OrderedDictX"}}) {
            P p = new P().op(0x80).u8(2).global(g[0], g[1]).str("echo hi").op(0x85).op('R').op('.');
            DisallowedGlobalException e = assertThrows(DisallowedGlobalException.class, () -> load(p.bytes()));
            assertEquals(g[0] + "." + g[1], e.global());
            assertTrue(e.getMessage().contains("'" + g[0] + "." + g[1] + "'"), e.getMessage());
        }
        P stack = new P().op(0x80).u8(4).str("builtins").str("eval").op(0x93).str("1+1").op(0x85).op('R').op('.');
        assertEquals("builtins.eval", assertThrows(DisallowedGlobalException.class, () -> load(stack.bytes())).global());
    }

    @Test
    void reduceOnADisallowedCallableIsRefused() {
        refusedWith("REDUCE on a str", new P().op(0x80).u8(2).str("os.system").op(')').op('R').op('.'));
        refusedWith("REDUCE on torch.FloatStorage is not allowed", new P().op(0x80).u8(2)
                .global("torch", "FloatStorage").op(')').op('R').op('.'));
        refusedWith("REDUCE on a dict", new P().op(0x80).u8(2).op('}').op(')').op('R').op('.'));
        refusedWith("expected a tuple", new P().op(0x80).u8(2).global("collections", "OrderedDict").small(1)
                .op('R').op('.'));
        refusedWith("expected a storage", new P().op(0x80).u8(2).global("torch._utils", "_rebuild_tensor")
                .op('(').str("x").small(0).op(')').op(')').op('t').op('R').op('.'));
        refusedWith("_rebuild_tensor takes 4 arguments", new P().op(0x80).u8(2)
                .global("torch._utils", "_rebuild_tensor").op(')').op('R').op('.'));
        refusedWith("BUILD on a list", new P().op(0x80).u8(2).op(']').op('}').op('b').op('.'));
    }

    @Test
    void objectBuildingOpcodesAreRefused() {
        refusedWith("INST builds arbitrary objects", new P().op('(').op('i').line("os").line("system").op('.'));
        refusedWith("OBJ builds arbitrary objects", new P().op('(').global("collections", "OrderedDict").op('o').op('.'));
        refusedWith("extension registry", new P().op(0x82).u8(1).op('.'));
        refusedWith("out-of-band buffers", new P().op(0x97).op('.'));
        refusedWith("unknown opcode 0xff", new P().u8(0xff));
        refusedWith("pickle protocol 6 is not supported", new P().op(0x80).u8(6).op('N').op('.'));
    }

    @Test
    void deepNestingIsRefused() {
        P p = new P().op(0x80).u8(2).op(')');
        for (int i = 0; i < 200_000; i++) {
            p.op(0x85);
        }
        refusedWith("tuples nested more than " + RestrictedUnpickler.MAX_DEPTH + " deep", p.op('.'));
        P marks = new P();
        for (int i = 0; i < RestrictedUnpickler.MAX_STACK + 10; i++) {
            marks.u8('(');
        }
        refusedWith("stack items", marks);
        // a list that contains itself is harmless: nothing recurses into it
        P cycle = new P().op(']').op('q').u8(0).op('h').u8(0).op('a').op('.');
        Py.PyList l = assertInstanceOf(Py.PyList.class, load(cycle.bytes()));
        assertEquals(l, l.items().getFirst());
        refusedWith("cannot be a dict key", new P().op('}').op(']').small(1).op('s').op('.'));
    }

    @Test
    void hugeLengthsAreRefusedBeforeAllocating() {
        refusedWith("truncated", new P().op('X').u32(0xffffffffL).raw(new byte[10]));
        refusedWith("truncated", new P().op(0x8d).u64(1L << 40).op('.'));
        refusedWith("length 18446744073709551615 is not valid", new P().op(0x8e).u64(-1).op('.'));
        refusedWith("length", new P().op('T').u32(-2).op('.'));
        refusedWith("integer of 4294967295 bytes exceeds", new P().op(0x8b).u32(0xffffffffL).op('.'));
        refusedWith("frame of", new P().op(0x80).u8(4).op(0x95).u64(1L << 50).op('.'));
        refusedWith("longer than 4096 bytes", new P().op('c').raw(new byte[5000]).op('.'));
        refusedWith("never PUT", new P().op('j').u32(123456).op('.'));
    }

    @Test
    void truncatedAndMalformedPicklesAreRefused() {
        byte[] full = new P().op(0x80).u8(2).op('}').str("key").op('(').small(1).small(2).op('l').op('s').op('.').bytes();
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            PickleException e = assertThrows(PickleException.class, () -> load(cut), "cut at " + n);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("without STOP"),
                    n + ": " + e.getMessage());
        }
        refusedWith("STOP with 2 stack items", new P().small(1).small(2).op('.'));
        refusedWith("STOP with 0 stack items", new P().op('.'));
        refusedWith("APPEND on an empty stack", new P().op('a').op('.'));
        refusedWith("TUPLE without a MARK", new P().small(1).op('t').op('.'));
        refusedWith("SETITEM on a int", new P().small(1).small(2).small(3).op('s').op('.'));
        refusedWith("odd number of items", new P().op('(').small(1).op('d').op('.'));
        refusedWith("not valid UTF-8", new P().op('X').u32(1).raw((byte) 0xff).op('.'));
        refusedWith("bad integer literal", new P().op('I').line("12x").op('.'));
        refusedWith("STRING argument must be quoted", new P().op('S').line("abc").op('.'));
    }
}
