package io.sdj.model.pickle;

import io.sdj.model.ChannelCursor;
import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A pickle reader (protocols 0 to 5) that executes nothing. It builds plain values ({@link Py}) and allows exactly
 * the globals PyTorch needs to describe tensors: {@code torch._utils._rebuild_tensor_v2} and
 * {@code _rebuild_tensor} (which become {@link Py.TensorRef}), {@code _rebuild_parameter} and
 * {@code _rebuild_parameter_with_state} (which unwrap to their tensor), {@code collections.OrderedDict} (a
 * {@link Py.PyDict}), {@code torch.Size} (a tuple) and the {@code torch.*Storage} types (tags in persistent ids,
 * resolved to {@link Py.StorageRef} by the caller's {@link PersistentLoader}). Any other global is refused with a
 * {@link DisallowedGlobalException} naming it, before anything could be called; so are the opcodes that construct
 * arbitrary objects (INST, OBJ, the extension registry, out-of-band buffers).
 *
 * <p>Limits: {@value #MAX_STACK} stack items, {@value #MAX_MEMO} memo entries, containers nested at most
 * {@value #MAX_DEPTH} deep, integers of at most {@value #MAX_LONG_BYTES} bytes, strings of at most {@value #MAX_BYTES}
 * bytes; every length is checked against the
 * bytes left before anything is allocated.
 */
public final class RestrictedUnpickler {
    public static final int MAX_STACK = 1 << 20;
    public static final int MAX_MEMO = 1 << 20;
    public static final int MAX_DEPTH = 100;
    public static final int MAX_LONG_BYTES = 64;
    /** Longest str or bytes value. */
    public static final long MAX_BYTES = 64L * 1024 * 1024;

    /** Resolves a persistent id (a storage reference) to a value. */
    @FunctionalInterface
    public interface PersistentLoader {
        Object load(Object pid, long offset);
    }

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("DoubleStorage", DType.F64), Map.entry("FloatStorage", DType.F32),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    private static final Set<String> CALLABLE = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.Size");

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final ChannelCursor in;
    private final Path path;
    private final PersistentLoader persistent;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long opOffset;

    private RestrictedUnpickler(ChannelCursor in, PersistentLoader persistent) {
        this.in = in;
        this.path = in.path();
        this.persistent = persistent;
    }

    /** The allowed globals, for messages. */
    public static String allowedGlobals() {
        TreeSet<String> all = new TreeSet<>(CALLABLE);
        all.add("torch.*Storage");
        return String.join(", ", all);
    }

    /** The element type of a torch storage class name ("HalfStorage"), or null. */
    public static DType storageType(Py.Global g) {
        return g.module().equals("torch") ? STORAGES.get(g.name()) : null;
    }

    /**
     * Reads one pickle from the cursor's position up to and including its STOP opcode.
     *
     * @throws PickleException for anything malformed or not allowed (a {@link DisallowedGlobalException} for a
     *                         global outside the allowed set)
     */
    public static Object load(ChannelCursor in, PersistentLoader persistent) {
        return new RestrictedUnpickler(in, persistent).run();
    }

    private PickleException fail(String detail) {
        return new PickleException(path, "pickle opcode at byte " + opOffset + ": " + detail);
    }

    private Object run() {
        while (true) {
            opOffset = in.position();
            if (in.remaining() == 0) {
                throw new PickleException(path, "truncated: the pickle ends at byte " + opOffset + " without STOP");
            }
            int op = in.u8("an opcode");
            try {
                if (op == '.') {
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw fail("STOP with " + stack.size() + " stack items and " + marks.size()
                                + " open marks (expected exactly one value)");
                    }
                    Object result = stack.getFirst();
                    if (result == MARK) {
                        throw fail("STOP on a MARK");
                    }
                    return result;
                }
                step(op);
            } catch (PickleException e) {
                throw e;
            } catch (ModelFormatException e) {
                throw new PickleException(path, "pickle opcode 0x" + Integer.toHexString(op) + " at byte " + opOffset
                        + ": " + detailOf(e));
            }
            if (stack.size() > MAX_STACK) {
                throw fail("more than " + MAX_STACK + " stack items");
            }
        }
    }

    private String detailOf(ModelFormatException e) {
        String m = e.getMessage();
        String prefix = path + ": ";
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    private void step(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int v = in.u8("the protocol");
                if (v > 5) {
                    throw fail("pickle protocol " + v + " is not supported (0 to 5)");
                }
            }
            case 0x95 -> { // FRAME: a length hint only
                long n = in.i64("the frame length");
                if (n < 0 || n > in.remaining()) {
                    throw fail("frame of " + Long.toUnsignedString(n) + " bytes exceeds the " + in.remaining() + " left");
                }
            }
            case '(' -> {
                marks.add(stack.size());
                push(MARK);
            }
            case '0' -> pop("POP");
            case '1' -> popMark("POP_MARK");
            case '2' -> push(peek("DUP"));
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'J' -> push((long) in.i32("a BININT"));
            case 'K' -> push((long) in.u8("a BININT1"));
            case 'M' -> push((long) in.u16("a BININT2"));
            case 0x8a -> push(longBytes(in.u8("the LONG1 length")));
            case 0x8b -> push(longBytes(in.u32("the LONG4 length")));
            case 'I' -> push(intLine(line("INT")));
            case 'L' -> push(intLine(stripSuffix(line("LONG"), "L")));
            case 'F' -> push(floatLine(line("FLOAT")));
            case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.i64("a BINFLOAT"))));
            case 'X' -> push(utf8(in.u32("the BINUNICODE length")));
            case 0x8c -> push(utf8(in.u8("the SHORT_BINUNICODE length")));
            case 0x8d -> push(utf8(in.i64("the BINUNICODE8 length")));
            case 'V' -> push(rawUnicode(line("UNICODE")));
            case 'T' -> push(latin1(in.i32("the BINSTRING length")));
            case 'U' -> push(latin1(in.u8("the SHORT_BINSTRING length")));
            case 'S' -> push(quotedString(line("STRING")));
            case 'B' -> push(bytes(in.u32("the BINBYTES length")));
            case 'C' -> push(bytes(in.u8("the SHORT_BINBYTES length")));
            case 0x8e -> push(bytes(in.i64("the BINBYTES8 length")));
            case 0x96 -> push(bytes(in.i64("the BYTEARRAY8 length")));
            case ')' -> push(tuple(List.of()));
            case 0x85 -> push(tuple(popN(1, "TUPLE1")));
            case 0x86 -> push(tuple(popN(2, "TUPLE2")));
            case 0x87 -> push(tuple(popN(3, "TUPLE3")));
            case 't' -> push(tuple(popMark("TUPLE")));
            case ']' -> push(new Py.PyList());
            case 'l' -> {
                Py.PyList l = new Py.PyList();
                l.items.addAll(popMark("LIST"));
                push(l);
            }
            case 'a' -> {
                Object v = pop("APPEND");
                list("APPEND").items.add(v);
            }
            case 'e' -> {
                List<Object> vs = popMark("APPENDS");
                list("APPENDS").items.addAll(vs);
            }
            case '}' -> push(new Py.PyDict());
            case 'd' -> {
                Py.PyDict d = new Py.PyDict();
                putAll(d, popMark("DICT"));
                push(d);
            }
            case 's' -> {
                List<Object> kv = popN(2, "SETITEM");
                putAll(dict("SETITEM"), kv);
            }
            case 'u' -> {
                List<Object> kv = popMark("SETITEMS");
                putAll(dict("SETITEMS"), kv);
            }
            case 0x8f -> push(new Py.PySet());
            case 0x90 -> {
                List<Object> vs = popMark("ADDITEMS");
                Object s = peek("ADDITEMS");
                if (!(s instanceof Py.PySet set)) {
                    throw fail("ADDITEMS on a " + describe(s) + ", expected a set");
                }
                for (Object v : vs) {
                    set.items.add(hashable(v));
                }
            }
            case 0x91 -> {
                Py.PySet s = new Py.PySet();
                for (Object v : popMark("FROZENSET")) {
                    s.items.add(hashable(v));
                }
                push(s);
            }
            case 'p' -> memoPut(parseLong(line("PUT"), "PUT index"));
            case 'q' -> memoPut(in.u8("a BINPUT index"));
            case 'r' -> memoPut(in.u32("a LONG_BINPUT index"));
            case 0x94 -> memoPut(memo.size());
            case 'g' -> push(memoGet(parseLong(line("GET"), "GET index")));
            case 'h' -> push(memoGet(in.u8("a BINGET index")));
            case 'j' -> push(memoGet(in.u32("a LONG_BINGET index")));
            case 'c' -> {
                String module = line("GLOBAL module");
                String name = line("GLOBAL name");
                push(global(module, name));
            }
            case 0x93 -> {
                List<Object> mn = popN(2, "STACK_GLOBAL");
                if (!(mn.get(0) instanceof String module) || !(mn.get(1) instanceof String name)) {
                    throw fail("STACK_GLOBAL needs two strings, found " + describe(mn.get(0)) + " and "
                            + describe(mn.get(1)));
                }
                push(global(module, name));
            }
            case 'R' -> {
                List<Object> fa = popN(2, "REDUCE");
                push(call(fa.get(0), fa.get(1), "REDUCE"));
            }
            case 0x81 -> {
                List<Object> ca = popN(2, "NEWOBJ");
                push(call(ca.get(0), ca.get(1), "NEWOBJ"));
            }
            case 0x92 -> {
                List<Object> cak = popN(3, "NEWOBJ_EX");
                if (!(cak.get(2) instanceof Py.PyDict kw) || !kw.items.isEmpty()) {
                    throw fail("NEWOBJ_EX with keyword arguments is not supported");
                }
                push(call(cak.get(0), cak.get(1), "NEWOBJ_EX"));
            }
            case 'b' -> {
                Object state = pop("BUILD");
                Object target = peek("BUILD");
                if (!(target instanceof Py.PyDict) || !(state instanceof Py.PyDict || state instanceof Py.Tuple)) {
                    throw fail("BUILD on a " + describe(target) + " with a " + describe(state)
                            + " state: only an OrderedDict's attributes (its _metadata) may be set");
                }
            }
            case 'P' -> push(persistent.load(line("PERSID"), opOffset));
            case 'Q' -> push(persistent.load(pop("BINPERSID"), opOffset));
            case 'i', 'o' -> throw fail((op == 'i' ? "INST" : "OBJ")
                    + " builds arbitrary objects and is not allowed");
            case 0x82, 0x83, 0x84 -> throw fail("the extension registry (EXT1/2/4) is not allowed");
            case 0x97, 0x98 -> throw fail("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported");
            default -> throw fail("unknown opcode 0x" + Integer.toHexString(op));
        }
    }

    // ---- globals and calls ----

    private Py.Global global(String module, String name) {
        String q = module + "." + name;
        Py.Global g = new Py.Global(module, name);
        if (!CALLABLE.contains(q) && storageType(g) == null) {
            throw new DisallowedGlobalException(path, q, opOffset);
        }
        return g;
    }

    private Object call(Object callable, Object args, String op) {
        if (!(callable instanceof Py.Global g)) {
            throw fail(op + " on a " + describe(callable) + ": only the allowed globals may be called");
        }
        if (!(args instanceof Py.Tuple a)) {
            throw fail(op + " of " + g + " with " + describe(args) + " arguments, expected a tuple");
        }
        return switch (g.qualified()) {
            case "collections.OrderedDict" -> orderedDict(a);
            case "torch._utils._rebuild_tensor_v2" -> {
                if (a.size() < 6 || a.size() > 7) {
                    throw fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + a.size());
                }
                yield tensor(a);
            }
            case "torch._utils._rebuild_tensor" -> {
                if (a.size() != 4) {
                    throw fail("_rebuild_tensor takes 4 arguments, got " + a.size());
                }
                yield tensor(a);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.size() < 3 || a.size() > 4 || !(a.get(0) instanceof Py.TensorRef t)) {
                    throw fail(g.name() + " needs a tensor and 2 or 3 more arguments");
                }
                yield t;
            }
            case "torch.Size" -> {
                if (a.size() != 1 || !(a.get(0) instanceof Py.Tuple dims)) {
                    throw fail("torch.Size takes one tuple");
                }
                yield dims;
            }
            default -> throw fail(op + " on " + g + " is not allowed (a storage type is only a tag in a persistent id)");
        };
    }

    private Py.PyDict orderedDict(Py.Tuple a) {
        Py.PyDict d = new Py.PyDict();
        if (a.size() == 0) {
            return d;
        }
        if (a.size() != 1 || !(a.get(0) instanceof Py.PyList items)) {
            throw fail("OrderedDict takes no arguments or one list of pairs");
        }
        for (Object o : items.items) {
            if (!(o instanceof Py.Tuple kv) || kv.size() != 2) {
                throw fail("OrderedDict items must be (key, value) pairs");
            }
            d.items.put(hashable(kv.get(0)), kv.get(1));
        }
        return d;
    }

    private Py.TensorRef tensor(Py.Tuple a) {
        if (!(a.get(0) instanceof Py.StorageRef storage)) {
            throw fail("tensor rebuilt from a " + describe(a.get(0)) + ", expected a storage (a persistent id)");
        }
        if (!(a.get(1) instanceof Long offset) || offset < 0) {
            throw fail("tensor storage offset must be a non-negative int, found " + describe(a.get(1)));
        }
        long[] size = longs(a.get(2), "size");
        long[] stride = longs(a.get(3), "stride");
        if (size.length != stride.length) {
            throw fail("tensor has " + size.length + " sizes but " + stride.length + " strides");
        }
        return new Py.TensorRef(storage, offset, size, stride);
    }

    private long[] longs(Object o, String what) {
        if (!(o instanceof Py.Tuple t)) {
            throw fail("tensor " + what + " must be a tuple, found " + describe(o));
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v) || v < 0) {
                throw fail("tensor " + what + "[" + i + "] must be a non-negative int, found " + describe(t.get(i)));
            }
            out[i] = v;
        }
        return out;
    }

    // ---- stack, memo, containers ----

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(String op) {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw fail(op + " on an empty stack");
        }
        return stack.removeLast();
    }

    private Object peek(String op) {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw fail(op + " on an empty stack");
        }
        return stack.getLast();
    }

    private List<Object> popN(int n, String op) {
        int from = stack.size() - n;
        int floor = marks.isEmpty() ? 0 : marks.getLast() + 1;
        if (from < floor) {
            throw fail(op + " needs " + n + " stack items, found " + Math.max(0, stack.size() - floor));
        }
        List<Object> sub = stack.subList(from, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private List<Object> popMark(String op) {
        if (marks.isEmpty()) {
            throw fail(op + " without a MARK");
        }
        int m = marks.removeLast();
        List<Object> sub = stack.subList(m + 1, stack.size());
        List<Object> out = new ArrayList<>(sub);
        stack.subList(m, stack.size()).clear();
        return out;
    }

    private Py.PyList list(String op) {
        Object l = peek(op);
        if (!(l instanceof Py.PyList list)) {
            throw fail(op + " on a " + describe(l) + ", expected a list");
        }
        return list;
    }

    private Py.PyDict dict(String op) {
        Object d = peek(op);
        if (!(d instanceof Py.PyDict dict)) {
            throw fail(op + " on a " + describe(d) + ", expected a dict");
        }
        return dict;
    }

    private void putAll(Py.PyDict d, List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw fail("odd number of items (" + kv.size() + ") for a dict");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            d.items.put(hashable(kv.get(i)), kv.get(i + 1));
        }
    }

    /** Python only hashes immutable values; refusing the rest also keeps hashing from recursing into containers. */
    private Object hashable(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double
                || k instanceof BigInteger || k instanceof Py.Tuple) {
            if (k instanceof Py.Tuple t) {
                for (Object o : t.items()) {
                    hashable(o);
                }
            }
            return k;
        }
        throw fail("a " + describe(k) + " cannot be a dict key or set member");
    }

    private Py.Tuple tuple(List<Object> items) {
        int depth = 1;
        for (Object o : items) {
            if (o == MARK) {
                throw fail("a MARK inside a tuple");
            }
            if (o instanceof Py.Tuple t) {
                depth = Math.max(depth, t.depth() + 1);
            }
        }
        if (depth > MAX_DEPTH) {
            throw fail("tuples nested more than " + MAX_DEPTH + " deep");
        }
        return new Py.Tuple(items, depth);
    }

    private void memoPut(long index) {
        if (index < 0) {
            throw fail("negative memo index");
        }
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw fail("more than " + MAX_MEMO + " memo entries");
        }
        memo.put(index, peek("PUT"));
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw fail("GET of memo index " + index + ", which was never PUT");
        }
        return memo.get(index);
    }

    // ---- scalars ----

    private String line(String what) {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = in.u8(what);
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() >= 4096) {
                throw fail(what + " line longer than 4096 bytes");
            }
            sb.append((char) c);
        }
    }

    private static String stripSuffix(String s, String suffix) {
        return s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
    }

    private Object intLine(String s) {
        if (s.equals("00")) {
            return Boolean.FALSE;
        }
        if (s.equals("01")) {
            return Boolean.TRUE;
        }
        if (s.length() > 2 * MAX_LONG_BYTES + 2) {
            throw fail("integer literal longer than " + (2 * MAX_LONG_BYTES + 2) + " characters");
        }
        try {
            BigInteger v = new BigInteger(s.trim());
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw fail("bad integer literal '" + s + "'");
        }
    }

    private long parseLong(String s, String what) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw fail("bad " + what + " '" + s + "'");
        }
    }

    private Double floatLine(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw fail("bad float literal '" + s + "'");
        }
    }

    private Object longBytes(long n) {
        if (n > MAX_LONG_BYTES) {
            throw fail("integer of " + n + " bytes exceeds the limit of " + MAX_LONG_BYTES);
        }
        byte[] le = in.bytes(n, "a long integer");
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private byte[] bytes(long n) {
        if (n < 0) {
            throw fail("length " + Long.toUnsignedString(n) + " is not valid");
        }
        if (n > MAX_BYTES && n <= in.remaining()) {
            throw fail("a string of " + n + " bytes exceeds the limit of " + MAX_BYTES);
        }
        return in.bytes(n, "a byte string");
    }

    private String utf8(long n) {
        byte[] b = bytes(n);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail("string is not valid UTF-8");
        }
    }

    private String latin1(long n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** Protocol 0 STRING: a quoted Python literal; simple escapes only. */
    private String quotedString(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw fail("STRING argument must be quoted");
        }
        return unescape(s.substring(1, s.length() - 1), false);
    }

    /** Protocol 0 UNICODE: raw-unicode-escape (only \\uXXXX and \\UXXXXXXXX escapes). */
    private String rawUnicode(String s) {
        return unescape(s, true);
    }

    private String unescape(String s, boolean rawUnicode) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
                continue;
            }
            char e = s.charAt(i + 1);
            if (rawUnicode && e != 'u' && e != 'U') {
                sb.append(c);
                continue;
            }
            i++;
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    try {
                        sb.appendCodePoint(Integer.parseInt(s.substring(i + 1, i + 1 + len), 16));
                    } catch (IllegalArgumentException | IndexOutOfBoundsException ex) {
                        throw fail("bad \\" + e + " escape");
                    }
                    i += len;
                }
                default -> sb.append('\\').append(e);
            }
        }
        return sb.toString();
    }

    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o == MARK) {
            return "MARK";
        }
        return switch (o) {
            case String s -> "str";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Boolean b -> "bool";
            case Double d -> "float";
            case byte[] b -> "bytes";
            case Py.Tuple t -> "tuple";
            case Py.PyList l -> "list";
            case Py.PyDict d -> "dict";
            case Py.PySet s -> "set";
            case Py.Global g -> g.qualified();
            case Py.StorageRef s -> "storage";
            case Py.TensorRef t -> "tensor";
            default -> o.getClass().getSimpleName();
        };
    }
}
