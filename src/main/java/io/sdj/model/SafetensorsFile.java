package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import java.util.Optional;

/**
 * A memory-mapped {@code .safetensors} file.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON (an object
 * mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__"} object of strings), then the data; offsets are relative to the first byte after the header.
 * Opening validates all of it against the file size: every problem is a {@link ModelFormatException} that names the
 * file, the tensor and what was expected. The whole file is mapped read-only as one {@link MemorySegment} (files over
 * 2 GB included) owned by a shared {@link Arena} that {@link #close()} releases; no tensor data is copied to the heap
 * unless asked for ({@link #readFloats(String)}). Reads are safe from several threads until the file is closed.
 */
public final class SafetensorsFile implements TensorSource {
    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsFile.class);

    /** Largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Name of the optional string map in the header. */
    public static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final long fileSize;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Arena arena;
    private final MemorySegment mapped;

    private SafetensorsFile(Path path, long fileSize, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
        this.arena = arena;
        this.mapped = mapped;
    }

    /**
     * Opens, validates and maps a safetensors file.
     *
     * @throws ModelFormatException if the file is missing, unreadable, truncated or its header is invalid
     */
    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            Header header = readHeader(path, ch, size);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                LOG.debug("{}: {} tensors, header {} bytes, file {} bytes", path, header.tensors.size(),
                        header.dataStart - 8, size);
                return new SafetensorsFile(path, size, header.dataStart, header.tensors, header.metadata, arena, seg);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(path, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        }
    }

    private record Header(long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Header readHeader(Path path, FileChannel ch, long size) throws IOException {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, expected a .safetensors file");
        }
        if (size < 8) {
            throw new ModelFormatException(path, "truncated: the file has " + size
                    + " bytes, a safetensors file starts with an 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
            throw new ModelFormatException(path, "header length " + Long.toUnsignedString(headerLen)
                    + " is not plausible (at most " + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
        }
        if (headerLen < 2) {
            throw new ModelFormatException(path, "header length " + headerLen + " is too small for a JSON object");
        }
        if (8 + headerLen > size) {
            throw new ModelFormatException(path, "truncated: header length " + headerLen + " needs "
                    + (8 + headerLen) + " bytes but the file has " + size);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        hb.flip();
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(path, null, "header is not valid UTF-8", e);
        }
        if (json.isEmpty() || json.charAt(0) != '{') {
            throw new ModelFormatException(path, "header does not start with '{'; not a safetensors file?");
        }
        JsonValue root;
        try {
            root = JsonParser.parse(json);
        } catch (JsonParser.JsonSyntaxException e) {
            throw new ModelFormatException(path, null, "invalid JSON header: " + e.getMessage(), e);
        }
        if (!(root instanceof JsonValue.JsonObject obj)) {
            throw new ModelFormatException(path, "header must be a JSON object, found " + root.kind());
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonValue> e : obj.members().entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(path, e.getValue());
            } else {
                tensors.put(e.getKey(), parseTensor(path, e.getKey(), e.getValue(), dataStart, dataSize));
            }
        }
        checkOverlaps(path, tensors.values(), dataStart);
        return new Header(dataStart, Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonValue v) {
        if (!(v instanceof JsonValue.JsonObject obj)) {
            throw new ModelFormatException(path, METADATA_KEY + " must be an object of strings, found " + v.kind());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : obj.members().entrySet()) {
            if (!(e.getValue() instanceof JsonValue.JsonString s)) {
                throw new ModelFormatException(path, METADATA_KEY + " entry '" + e.getKey()
                        + "' must be a string, found " + e.getValue().kind());
            }
            m.put(e.getKey(), s.value());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseTensor(Path path, String name, JsonValue v, long dataStart, long dataSize) {
        if (!(v instanceof JsonValue.JsonObject obj)) {
            throw new ModelFormatException(path, name, "entry must be an object with dtype, shape and data_offsets, found " + v.kind());
        }
        JsonValue dt = obj.get("dtype").orElseThrow(() -> new ModelFormatException(path, name, "missing \"dtype\""));
        if (!(dt instanceof JsonValue.JsonString dts)) {
            throw new ModelFormatException(path, name, "\"dtype\" must be a string, found " + dt.kind());
        }
        DType dtype = DType.fromHeaderName(dts.value()).orElseThrow(() -> new ModelFormatException(path, name,
                "unknown or unsupported dtype \"" + dts.value() + "\"; supported: " + DType.supportedNames()));
        JsonValue sh = obj.get("shape").orElseThrow(() -> new ModelFormatException(path, name, "missing \"shape\""));
        long[] shape = nonNegativeLongs(path, name, "shape", sh);
        JsonValue off = obj.get("data_offsets").orElseThrow(() -> new ModelFormatException(path, name, "missing \"data_offsets\""));
        long[] offsets = nonNegativeLongs(path, name, "data_offsets", off);
        if (offsets.length != 2) {
            throw new ModelFormatException(path, name, "\"data_offsets\" must be [begin, end], found " + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelFormatException(path, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw new ModelFormatException(path, name, "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data (" + dataSize + " bytes after the header; file truncated?)");
        }
        long expectedBytes;
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            expectedBytes = Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, name, "shape " + TensorInfo.formatShape(shape) + " is too large");
        }
        if (end - begin != expectedBytes) {
            throw new ModelFormatException(path, name, "shape " + TensorInfo.formatShape(shape) + " with dtype " + dtype
                    + " needs " + expectedBytes + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, dataStart + begin, expectedBytes);
    }

    private static long[] nonNegativeLongs(Path path, String tensor, String field, JsonValue v) {
        if (!(v instanceof JsonValue.JsonArray arr)) {
            throw new ModelFormatException(path, tensor, "\"" + field + "\" must be an array of integers, found " + v.kind());
        }
        long[] out = new long[arr.elements().size()];
        for (int i = 0; i < out.length; i++) {
            JsonValue e = arr.elements().get(i);
            Optional<Long> l = e instanceof JsonValue.JsonNumber num ? num.asLong() : Optional.empty();
            if (l.isEmpty() || l.get() < 0) {
                throw new ModelFormatException(path, tensor, "\"" + field + "\"[" + i
                        + "] must be a non-negative integer, found " + (e instanceof JsonValue.JsonNumber num ? num.text() : e.kind()));
            }
            out[i] = l.get();
        }
        return out;
    }

    private static void checkOverlaps(Path path, java.util.Collection<TensorInfo> all, long dataStart) {
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
                throw new ModelFormatException(path, cur.name(), "data_offsets [" + (cur.offset() - dataStart) + ", "
                        + (cur.offset() - dataStart + cur.byteSize()) + "] overlap tensor '" + prev.name() + "' at ["
                        + (prev.offset() - dataStart) + ", " + (prev.offset() - dataStart + prev.byteSize()) + "]");
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + p);
            }
            p += n;
        }
    }

    /** The file this was opened from. */
    @Override
    public Path path() {
        return path;
    }

    /** File size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Absolute offset of the data section (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    /** All tensors in header order (unmodifiable). */
    @Override
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** True when the file has a tensor of this name. */
    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor of this name, if present. */
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * The tensor of this name.
     *
     * @throws ModelFormatException if the file has no such tensor
     */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, name, "not in the file");
        }
        return t;
    }

    /** The {@code __metadata__} strings (empty when the header has none). */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The whole mapped file, read-only; valid until {@link #close()}. */
    public MemorySegment segment() {
        checkOpen();
        return mapped;
    }

    /**
     * The raw little-endian bytes of one tensor, a read-only slice of the mapping; valid until {@link #close()}.
     *
     * @throws ModelFormatException if the file has no such tensor
     */
    public MemorySegment data(String name) {
        TensorInfo t = info(name);
        checkOpen();
        return mapped.asSlice(t.offset(), t.byteSize());
    }

    /**
     * Copies a small F32, F16 or BF16 tensor into a float array (row-major).
     *
     * @throws ModelFormatException if the tensor is missing, has another dtype, or has more elements than a Java
     *                              array holds
     */
    @Override
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        TensorBytes.arrayLength(path, t);
        return TensorBytes.toFloats(path, t, data(name));
    }

    /**
     * Copies the tensor's bytes with positional reads (see {@link TensorSource#read}), not through the mapping, so
     * the checkpoint's pages do not add to the process's resident memory.
     */
    @Override
    public void read(TensorInfo tensor, MemorySegment dst) {
        checkOpen();
        TensorBytes.checkDestination(tensor, dst);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            TensorBytes.readFully(ch, tensor.offset(), dst, path, tensor.name());
        } catch (IOException e) {
            throw new ModelFormatException(path, tensor.name(), "cannot read its data: " + e.getMessage(), e);
        }
    }

    /** Safetensors stores every tensor raw and contiguous: its region is its data offsets in the file. */
    @Override
    public java.util.Optional<StoredRegion> storedRegion(TensorInfo tensor) {
        TensorInfo t = tensors.get(tensor.name());
        if (t == null || t.offset() != tensor.offset() || t.byteSize() != tensor.byteSize()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new StoredRegion(path, t.offset(), t.byteSize()));
    }

    /** True until {@link #close()} has been called. */
    public boolean isOpen() {
        return arena.scope().isAlive();
    }

    private void checkOpen() {
        if (!isOpen()) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    /** Unmaps the file; segments handed out before become inaccessible. Closing twice is harmless. */
    @Override
    public void close() {
        synchronized (this) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors, " + fileSize + " bytes]";
    }
}
