package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (ggml's model format, versions 2 and 3), parsed in Java with every field checked, so that a crafted or
 * damaged file is a {@link ModelFormatException} naming the file and tensor, never a native abort (ggml's own
 * reader asserts on some inputs).
 *
 * <p>Layout: magic {@code "GGUF"}, a u32 version, u64 tensor and key/value counts, the key/values (a string key, a
 * u32 value type, the value; arrays are an element type, a u64 count and the elements), the tensor infos (name,
 * u32 dimension count, u64 dims innermost first, u32 ggml type, u64 offset into the data section), padding to the
 * alignment ({@code general.alignment}, a u32 power of two, default 32), then the data. Tensors are reported with
 * their shape outermost first (the reverse of ggml's dims) and their stored type, quantized types included:
 * {@link #read} copies ggml's block layout as stored, ready to be copied into a ggml tensor of that type.
 *
 * <p>Tensor data is read with positional reads on a {@link FileChannel}, not through a mapping, so reading a model
 * does not add its pages to the process's resident memory. Reads are safe from several threads until {@link #close}.
 */
public final class GgufFile implements TensorSource {
    private static final Logger LOG = LoggerFactory.getLogger(GgufFile.class);

    /** The file magic, "GGUF" as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    /** The alignment when the file does not set {@code general.alignment}. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** The key/value that sets the alignment. */
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** Most tensors a file may declare. */
    public static final long MAX_TENSORS = 1L << 20;
    /** Most key/value pairs a file may declare. */
    public static final long MAX_KV = 1L << 20;
    /** Longest key or tensor name, in bytes. */
    public static final long MAX_NAME_BYTES = 64 * 1024;
    /** Longest string value, in bytes. */
    public static final long MAX_STRING_BYTES = 64L * 1024 * 1024;
    /** Most elements of one array value. */
    public static final long MAX_ARRAY_ELEMENTS = 1L << 28;
    /** Largest alignment accepted. */
    public static final long MAX_ALIGNMENT = 1L << 20;
    /** ggml's limit on dimensions. */
    public static final int MAX_DIMS = 4;
    /** Array elements rendered into {@link #metadata()} text before it is cut short. */
    static final int ARRAY_TEXT_ELEMENTS = 256;
    /** Characters of a string array element rendered into {@link #metadata()} text before it is cut short. */
    static final int ARRAY_TEXT_CHARS = 256;

    /** GGUF value types (enum gguf_type). */
    static final int T_UINT8 = 0, T_INT8 = 1, T_UINT16 = 2, T_INT16 = 3, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6,
            T_BOOL = 7, T_STRING = 8, T_ARRAY = 9, T_UINT64 = 10, T_INT64 = 11, T_FLOAT64 = 12;

    /** ggml's type names by id, for messages about types sdj does not read. */
    private static final String[] GGML_TYPE_NAMES = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)",
            "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS",
            "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
            "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0",
            "IQ4_NL_4_4 (removed)", "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)", "MXFP4", "NVFP4", "Q1_0", "Q2_0"};

    private final Path path;
    private final FileChannel channel;
    private final int version;
    private final long alignment;
    private final long dataStart;
    private final long fileSize;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private GgufFile(Path path, FileChannel channel, Header h, long fileSize) {
        this.path = path;
        this.channel = channel;
        this.version = h.version;
        this.alignment = h.alignment;
        this.dataStart = h.dataStart;
        this.fileSize = fileSize;
        this.tensors = h.tensors;
        this.metadata = h.metadata;
    }

    private record Header(int version, long alignment, long dataStart, Map<String, TensorInfo> tensors,
                          Map<String, String> metadata) {
    }

    /**
     * Opens and validates a GGUF file.
     *
     * @throws ModelFormatException if the file is missing, unreadable, truncated, or any header field is invalid
     */
    public static GgufFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, expected a .gguf file");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(path, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        }
        try {
            long size = ch.size();
            Header h = readHeader(new ChannelCursor(path, ch, 0, size), size);
            LOG.debug("{}: GGUF v{}, {} tensors, {} key/values, data at {}", path, h.version, h.tensors.size(),
                    h.metadata.size(), h.dataStart);
            return new GgufFile(path, ch, h, size);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do: the open failed already
        }
    }

    private static Header readHeader(ChannelCursor in, long size) {
        if (size < 24) {
            throw in.error("truncated: " + size + " bytes, a GGUF header has at least 24");
        }
        int magic = in.i32("the magic");
        if (magic != MAGIC) {
            throw in.error(String.format("bad magic 0x%08x, expected \"GGUF\"; not a GGUF file", magic));
        }
        long version = in.u32("the version");
        if (version == 1) {
            throw in.error("GGUF version 1 is not supported (only versions 2 and 3)");
        }
        if (version != 2 && version != 3) {
            throw in.error("GGUF version " + version + " is not supported (only versions 2 and 3)");
        }
        long nTensors = in.i64("the tensor count");
        long nKv = in.i64("the key/value count");
        if (nTensors < 0 || nTensors > MAX_TENSORS) {
            throw in.error("tensor count " + Long.toUnsignedString(nTensors) + " is not plausible (at most "
                    + MAX_TENSORS + ")");
        }
        if (nKv < 0 || nKv > MAX_KV) {
            throw in.error("key/value count " + Long.toUnsignedString(nKv) + " is not plausible (at most "
                    + MAX_KV + ")");
        }
        // each key/value takes at least 12 bytes (empty key + type), each tensor info at least 24
        if (nKv * 12 + nTensors * 24 > in.remaining()) {
            throw in.error("truncated: " + nKv + " key/values and " + nTensors + " tensor infos cannot fit in the "
                    + in.remaining() + " bytes after the header");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        long alignment = DEFAULT_ALIGNMENT;
        for (long i = 0; i < nKv; i++) {
            String key = string(in, MAX_NAME_BYTES, "key " + i);
            if (metadata.containsKey(key)) {
                throw in.error("duplicate key '" + key + "'");
            }
            long type = in.u32("the type of key '" + key + "'");
            if (key.equals(ALIGNMENT_KEY)) {
                if (type != T_UINT32) {
                    throw in.error(ALIGNMENT_KEY + " must be a uint32, found " + typeName(type));
                }
                alignment = in.u32(ALIGNMENT_KEY);
                if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > MAX_ALIGNMENT) {
                    throw in.error(ALIGNMENT_KEY + " " + alignment + " is not a power of two up to " + MAX_ALIGNMENT);
                }
                metadata.put(key, Long.toString(alignment));
            } else {
                metadata.put(key, value(in, key, type));
            }
        }
        List<TensorInfo> infos = new ArrayList<>();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (int i = 0; i < nTensors; i++) {
            in.tensor(null);
            String name = string(in, MAX_NAME_BYTES, "the name of tensor " + i);
            in.tensor(name);
            if (name.isEmpty()) {
                throw in.error("tensor " + i + " has an empty name");
            }
            if (byName.containsKey(name)) {
                throw in.error("duplicate tensor name");
            }
            long nDims = in.u32("the dimension count");
            if (nDims > MAX_DIMS) {
                throw in.error("has " + nDims + " dimensions, ggml allows at most " + MAX_DIMS);
            }
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = in.i64("dimension " + d);
                if (ne[d] < 0) {
                    throw in.error("dimension " + d + " is " + Long.toUnsignedString(ne[d]) + ", not a valid size");
                }
            }
            long typeId = in.u32("the type");
            DType dtype = DType.fromGgmlId(typeId).orElseThrow(() -> in.error("has ggml type " + typeId
                    + (typeId < GGML_TYPE_NAMES.length ? " (" + GGML_TYPE_NAMES[(int) typeId] + ")" : "")
                    + ", which sdj does not read; supported: " + DType.ggmlNames()));
            long offset = in.i64("the data offset");
            long[] shape = new long[ne.length];
            for (int d = 0; d < ne.length; d++) {
                shape[d] = ne[ne.length - 1 - d];
            }
            String dims = TensorInfo.formatShape(ne);
            long row = ne.length == 0 ? 1 : ne[0];
            if (!dtype.fitsRow(row)) {
                throw in.error("ggml dims " + dims + ": a row of " + row + " elements is not a whole number of "
                        + dtype + " blocks (" + dtype.blockSize() + " elements)");
            }
            long bytes;
            try {
                bytes = dtype.storageBytes(shape);
            } catch (ArithmeticException | IllegalArgumentException e) {
                throw in.error("ggml dims " + dims + " of type " + dtype + " are too large");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw in.error("data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment "
                        + alignment);
            }
            TensorInfo t = new TensorInfo(name, dtype, shape, offset, bytes);
            infos.add(t);
            byName.put(name, t);
        }
        in.tensor(null);
        long headerEnd = in.position();
        long dataStart = (headerEnd + alignment - 1) / alignment * alignment;
        long dataSize = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (TensorInfo t : infos) {
            long end = t.offset() + t.byteSize();
            if (end < 0 || dataSize < 0 || end > dataSize) {
                throw new ModelFormatException(in.path(), t.name(), "data [" + t.offset() + ", "
                        + (end < 0 ? "overflow" : Long.toString(end)) + ") runs past the end of the data section ("
                        + Math.max(0, dataSize) + " bytes at offset " + dataStart + "; file truncated?)");
            }
            tensors.put(t.name(), new TensorInfo(t.name(), t.dtype(), t.shape(), dataStart + t.offset(), t.byteSize()));
        }
        checkOverlaps(in.path(), tensors.values());
        return new Header((int) version, alignment, dataStart, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static void checkOverlaps(Path path, java.util.Collection<TensorInfo> all) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : all) {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.offset() < prev.offset() + prev.byteSize()) {
                throw new ModelFormatException(path, cur.name(), "data at file offset " + cur.offset()
                        + " overlaps tensor '" + prev.name() + "' at [" + prev.offset() + ", "
                        + (prev.offset() + prev.byteSize()) + ")");
            }
        }
    }

    /** A GGUF string: u64 length, then UTF-8 bytes. */
    static String string(ChannelCursor in, long maxBytes, String what) {
        long len = in.i64("the length of " + what);
        if (len < 0 || len > maxBytes) {
            throw in.error(what + ": string length " + Long.toUnsignedString(len) + " exceeds the limit of "
                    + maxBytes + " bytes");
        }
        byte[] b = in.bytes(len, what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw in.error(what + " is not valid UTF-8");
        }
    }

    /** Reads one value of {@code type} and renders it as text. */
    private static String value(ChannelCursor in, String key, long type) {
        if (type == T_ARRAY) {
            long elemType = in.u32("the element type of array '" + key + "'");
            long n = in.i64("the length of array '" + key + "'");
            if (elemType == T_ARRAY) {
                throw in.error("key '" + key + "': arrays of arrays are not supported");
            }
            if (n < 0 || n > MAX_ARRAY_ELEMENTS) {
                throw in.error("key '" + key + "': array length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_ARRAY_ELEMENTS);
            }
            int fixed = fixedSize(elemType);
            if (fixed < 0 && elemType != T_STRING) {
                throw in.error("key '" + key + "' has invalid array element type " + elemType);
            }
            long minBytes = fixed > 0 ? fixed : 8;
            if (n * minBytes > in.remaining()) {
                throw in.error("truncated: array '" + key + "' of " + n + " " + typeName(elemType)
                        + " values cannot fit in the " + in.remaining() + " bytes left");
            }
            StringBuilder sb = new StringBuilder("[");
            for (long i = 0; i < n; i++) {
                if (i < ARRAY_TEXT_ELEMENTS) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    sb.append(scalar(in, key, elemType, true));
                } else if (fixed > 0) {
                    in.skip((n - i) * fixed, "array '" + key + "'");
                    break;
                } else {
                    scalar(in, key, elemType, true);
                }
            }
            if (n > ARRAY_TEXT_ELEMENTS) {
                sb.append(", ... (").append(n).append(" elements)");
            }
            return sb.append(']').toString();
        }
        return scalar(in, key, type, false);
    }

    private static int fixedSize(long type) {
        return switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case T_UINT8, T_INT8, T_BOOL -> 1;
            case T_UINT16, T_INT16 -> 2;
            case T_UINT32, T_INT32, T_FLOAT32 -> 4;
            case T_UINT64, T_INT64, T_FLOAT64 -> 8;
            default -> -1;
        };
    }

    private static String scalar(ChannelCursor in, String key, long type, boolean quoteStrings) {
        String what = "the value of '" + key + "'";
        return switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case T_UINT8 -> Integer.toString(in.u8(what));
            case T_INT8 -> Integer.toString((byte) in.u8(what));
            case T_UINT16 -> Integer.toString(in.u16(what));
            case T_INT16 -> Integer.toString((short) in.u16(what));
            case T_UINT32 -> Long.toString(in.u32(what));
            case T_INT32 -> Integer.toString(in.i32(what));
            case T_FLOAT32 -> Float.toString(in.f32(what));
            case T_BOOL -> {
                int b = in.u8(what);
                if (b > 1) {
                    throw in.error("key '" + key + "': bool value " + b + " is neither 0 nor 1");
                }
                yield b == 1 ? "true" : "false";
            }
            case T_STRING -> {
                String s = string(in, MAX_STRING_BYTES, what);
                if (!quoteStrings) {
                    yield s;
                }
                yield JsonValue.quote(s.length() > ARRAY_TEXT_CHARS ? s.substring(0, ARRAY_TEXT_CHARS) + "..." : s);
            }
            case T_UINT64 -> Long.toUnsignedString(in.i64(what));
            case T_INT64 -> Long.toString(in.i64(what));
            case T_FLOAT64 -> Double.toString(in.f64(what));
            default -> throw in.error("key '" + key + "' has invalid value type " + type);
        };
    }

    private static String typeName(long type) {
        String[] names = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string",
                "array", "uint64", "int64", "float64"};
        return type >= 0 && type < names.length ? names[(int) type] : "type " + type;
    }

    @Override
    public Path path() {
        return path;
    }

    /** The GGUF version (2 or 3). */
    public int version() {
        return version;
    }

    /** The data alignment in bytes. */
    public long alignment() {
        return alignment;
    }

    /** Absolute offset of the data section. */
    public long dataStart() {
        return dataStart;
    }

    /** File size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Every tensor in file order; {@link TensorInfo#offset()} is the absolute file offset of its data. */
    @Override
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * The key/values as text: numbers and bools as Java prints them, strings as they are, arrays as
     * {@code [a, b, "c"]} (strings quoted, each cut after {@value #ARRAY_TEXT_CHARS} characters), cut short after
     * {@value #ARRAY_TEXT_ELEMENTS} elements with the count.
     */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The tensor of this name.
     *
     * @throws ModelFormatException if there is none
     */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, name, "not in the file");
        }
        return t;
    }

    /** Copies the stored bytes (ggml's block layout for quantized types) with positional reads. */
    @Override
    public void read(TensorInfo tensor, MemorySegment dst) {
        checkOpen();
        TensorBytes.checkDestination(tensor, dst);
        TensorInfo own = tensors.get(tensor.name());
        if (own == null || !own.equals(tensor)) {
            throw new ModelFormatException(path, tensor.name(), "is not a tensor of this file");
        }
        TensorBytes.readFully(channel, tensor.offset(), dst, path, tensor.name());
    }

    @Override
    public float[] readFloats(String name) {
        return TensorBytes.readFloats(this, info(name));
    }

    /**
     * GGUF stores every tensor raw, in ggml's own layout (quantized blocks included), at an aligned offset: its region
     * is its data range, so a tensor used as stored can be memory-mapped instead of copied.
     */
    @Override
    public java.util.Optional<StoredRegion> storedRegion(TensorInfo tensor) {
        TensorInfo own = tensors.get(tensor.name());
        if (own == null || !own.equals(tensor)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new StoredRegion(path, own.offset(), own.byteSize()));
    }

    private void checkOpen() {
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + tensors.size() + " tensors, " + fileSize + " bytes]";
    }
}
