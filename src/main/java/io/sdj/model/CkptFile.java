package io.sdj.model;

import io.sdj.model.pickle.PickleException;
import io.sdj.model.pickle.Py;
import io.sdj.model.pickle.RestrictedUnpickler;
import io.sdj.model.pickle.ZipDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PyTorch checkpoint ({@code .ckpt}, {@code .pt}, {@code .pth}) read without running any of it: the pickle goes
 * through {@link RestrictedUnpickler}, which only rebuilds tensors and plain containers and refuses every other
 * global by name. Both of {@code torch.save}'s formats are read: the zip format (since PyTorch 1.6;
 * {@code NAME/data.pkl} plus one uncompressed {@code NAME/data/KEY} entry per storage) and the legacy format (the
 * magic number, protocol version and system-info pickles, the object pickle, the list of storage keys, then each
 * storage as an int64 element count and its bytes). The tensors are those of the top-level dict, or of its
 * {@code state_dict} entry when it has one; other values (global_step, epoch, ...) are ignored.
 *
 * <p>Tensors are views of storages: {@link #read} copies the viewed elements in row-major order, so transposed
 * views and views at a storage offset come out contiguous, as PyTorch's {@code .contiguous()} would give them.
 * Data is read with positional reads, not through a mapping. Reads are safe from several threads until
 * {@link #close}.
 */
public final class CkptFile implements TensorSource {
    private static final Logger LOG = LoggerFactory.getLogger(CkptFile.class);

    /** The legacy format's magic number (the first pickle). */
    static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    /** The legacy format's protocol version (the second pickle). */
    static final long LEGACY_PROTOCOL = 1001;
    /** Most dimensions a tensor may have. */
    public static final int MAX_RANK = 16;

    /** The two torch.save layouts. */
    public enum Format {
        ZIP, LEGACY
    }

    /** Where one tensor's elements are: its storage's first element in the file and the view into it. */
    private record View(long storageStart, long storageNumel, long storageOffset, long[] size, long[] stride) {
    }

    /** One storage's bytes in the file. */
    private record StorageData(long offset, long bytes) {
    }

    private final Path path;
    private final FileChannel channel;
    private final Format format;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, View> views;

    private CkptFile(Path path, FileChannel channel, Format format, Map<String, TensorInfo> tensors,
                     Map<String, View> views) {
        this.path = path;
        this.channel = channel;
        this.format = format;
        this.tensors = tensors;
        this.views = views;
    }

    /**
     * Opens and validates a PyTorch checkpoint.
     *
     * @throws io.sdj.model.pickle.DisallowedGlobalException if the pickle names a global outside the allowed set
     * @throws ModelFormatException for a missing, truncated or malformed file, or a tensor that does not fit its storage
     */
    public static CkptFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, expected a .ckpt or .pt file");
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
            ChannelCursor head = new ChannelCursor(path, ch, 0, size);
            boolean zip = size >= 4 && head.i32("the file magic") == 0x04034b50;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, View> views = new HashMap<>();
            if (zip) {
                readZip(path, ch, size, tensors, views);
            } else {
                readLegacy(path, ch, size, tensors, views);
            }
            LOG.debug("{}: PyTorch {} checkpoint, {} tensors", path, zip ? "zip" : "legacy", tensors.size());
            return new CkptFile(path, ch, zip ? Format.ZIP : Format.LEGACY, Collections.unmodifiableMap(tensors),
                    views);
        } catch (IOException e) {
            close(ch);
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(ch);
            throw e;
        }
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // the open failed already
        }
    }

    // ---- zip format ----

    private static void readZip(Path path, FileChannel ch, long size, Map<String, TensorInfo> tensors,
                                Map<String, View> views) {
        ZipDirectory zip = ZipDirectory.read(path, ch, size);
        ZipDirectory.Entry pkl = null;
        for (ZipDirectory.Entry e : zip.entries().values()) {
            if (e.name().endsWith("/data.pkl") && e.name().indexOf('/') == e.name().length() - 9) {
                if (pkl != null) {
                    throw new ModelFormatException(path, "the zip holds two pickles, '" + pkl.name() + "' and '"
                            + e.name() + "'");
                }
                pkl = e;
            }
        }
        if (pkl == null) {
            throw new ModelFormatException(path, "a zip file but not a PyTorch checkpoint: no NAME/data.pkl entry");
        }
        String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        ZipDirectory.Entry order = zip.entries().get(prefix + "byteorder");
        if (order != null) {
            ChannelCursor bo = new ChannelCursor(path, ch, order.dataOffset(), order.dataOffset() + order.size());
            String text = new String(bo.bytes(Math.min(order.size(), 16), "the byteorder entry"), StandardCharsets.US_ASCII);
            if (!text.equals("little")) {
                throw new ModelFormatException(path, "byte order '" + text + "' is not supported (only little)");
            }
        }
        Map<String, StorageData> data = new HashMap<>();
        RestrictedUnpickler.PersistentLoader loader = (pid, offset) -> {
            Py.StorageRef s = storageRef(path, pid, offset, 5);
            ZipDirectory.Entry e = zip.entries().get(prefix + "data/" + s.key());
            if (e == null) {
                throw new ModelFormatException(path, "storage '" + s.key() + "' has no zip entry " + prefix + "data/"
                        + s.key());
            }
            data.put(s.key(), new StorageData(e.dataOffset(), e.size()));
            return s;
        };
        Object root = RestrictedUnpickler.load(new ChannelCursor(path, ch, pkl.dataOffset(),
                pkl.dataOffset() + pkl.size()), loader);
        collect(path, root, data, tensors, views);
    }

    // ---- legacy format ----

    private static void readLegacy(Path path, FileChannel ch, long size, Map<String, TensorInfo> tensors,
                                   Map<String, View> views) {
        ChannelCursor in = new ChannelCursor(path, ch, 0, size);
        RestrictedUnpickler.PersistentLoader none = (pid, offset) -> {
            throw new PickleException(path, "persistent id at byte " + offset + " outside the object pickle");
        };
        Object magic = RestrictedUnpickler.load(in, none);
        if (!(magic instanceof BigInteger m && m.equals(LEGACY_MAGIC))) {
            throw new ModelFormatException(path, "not a PyTorch checkpoint: a pickle that does not start with the"
                    + " torch.save magic number");
        }
        Object protocol = RestrictedUnpickler.load(in, none);
        if (!(protocol instanceof Long p && p == LEGACY_PROTOCOL)) {
            throw new ModelFormatException(path, "legacy torch.save protocol " + protocol + " is not supported (only "
                    + LEGACY_PROTOCOL + ")");
        }
        Object sysInfo = RestrictedUnpickler.load(in, none);
        if (sysInfo instanceof Py.PyDict d && Boolean.FALSE.equals(d.get("little_endian"))) {
            throw new ModelFormatException(path, "a big-endian checkpoint is not supported");
        }
        Map<String, Py.StorageRef> roots = new HashMap<>();
        RestrictedUnpickler.PersistentLoader loader = (pid, offset) -> {
            Py.StorageRef s = storageRef(path, pid, offset, 6);
            Py.StorageRef known = roots.putIfAbsent(s.key(), s);
            if (known != null && (known.dtype() != s.dtype() || known.numel() != s.numel())) {
                throw new PickleException(path, "storage '" + s.key() + "' is declared twice with different types");
            }
            return s;
        };
        Object root = RestrictedUnpickler.load(in, loader);
        Object keys = RestrictedUnpickler.load(in, none);
        if (!(keys instanceof Py.PyList list)) {
            throw new ModelFormatException(path, "legacy checkpoint: the storage key list is a "
                    + (keys == null ? "None" : keys.getClass().getSimpleName()) + ", expected a list");
        }
        Map<String, StorageData> data = new HashMap<>();
        for (Object k : list.items()) {
            if (!(k instanceof String key)) {
                throw new ModelFormatException(path, "legacy checkpoint: a storage key is not a string");
            }
            Py.StorageRef s = roots.get(key);
            if (s == null) {
                throw new ModelFormatException(path, "legacy checkpoint: storage '" + key + "' is listed but no tensor uses it");
            }
            long n = in.i64("the element count of storage '" + key + "'");
            if (n != s.numel()) {
                throw new ModelFormatException(path, "storage '" + key + "' holds " + n + " elements, its id says "
                        + s.numel());
            }
            long bytes = Math.multiplyExact(n, (long) s.dtype().byteSize());
            long at = in.position();
            in.skip(bytes, "the data of storage '" + key + "'");
            if (data.put(key, new StorageData(at, bytes)) != null) {
                throw new ModelFormatException(path, "legacy checkpoint: storage '" + key + "' is listed twice");
            }
        }
        collect(path, root, data, tensors, views);
    }

    /** A storage persistent id: ('storage', torch.XStorage, key, location, numel[, view_metadata]). */
    private static Py.StorageRef storageRef(Path path, Object pid, long offset, int maxLen) {
        if (!(pid instanceof Py.Tuple t) || t.size() < 5 || t.size() > maxLen || !"storage".equals(t.get(0))) {
            throw new PickleException(path, "persistent id at byte " + offset
                    + " is not a ('storage', type, key, location, size) tuple");
        }
        DType dtype = t.get(1) instanceof Py.Global g ? RestrictedUnpickler.storageType(g) : null;
        if (dtype == null) {
            throw new PickleException(path, "persistent id at byte " + offset + " names no torch storage type");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)
                || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw new PickleException(path, "persistent id at byte " + offset
                    + " needs a string key, a string location and a non-negative size");
        }
        if (t.size() == 6 && t.get(5) != null) {
            throw new PickleException(path, "storage '" + key + "' is a legacy storage view, which is not supported");
        }
        return new Py.StorageRef(dtype, key, location, numel, 0);
    }

    // ---- tensors ----

    private static void collect(Path path, Object root, Map<String, StorageData> data, Map<String, TensorInfo> tensors,
                                Map<String, View> views) {
        if (!(root instanceof Py.PyDict top)) {
            throw new ModelFormatException(path, "the checkpoint holds a " + describe(root)
                    + ", expected a dict of tensors (a state dict)");
        }
        Py.PyDict dict = top.get("state_dict") instanceof Py.PyDict sd ? sd : top;
        for (Map.Entry<Object, Object> e : dict.items().entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof Py.TensorRef t)) {
                continue;
            }
            Py.StorageRef s = t.storage();
            StorageData d = data.get(s.key());
            if (d == null) {
                throw new ModelFormatException(path, name, "its storage '" + s.key() + "' has no data in the file");
            }
            int es = s.dtype().byteSize();
            long storageNumel = s.numel();
            if (d.bytes < storageNumel * es || storageNumel > Long.MAX_VALUE / 8) {
                throw new ModelFormatException(path, name, "storage '" + s.key() + "' has " + d.bytes
                        + " bytes, " + storageNumel + " " + s.dtype() + " elements need " + storageNumel * es);
            }
            long[] size = t.size();
            long[] stride = t.stride();
            if (size.length > MAX_RANK) {
                throw new ModelFormatException(path, name, "has " + size.length + " dimensions (at most " + MAX_RANK + ")");
            }
            long numel = 1;
            long last = t.storageOffset();
            try {
                for (int i = 0; i < size.length; i++) {
                    numel = Math.multiplyExact(numel, size[i]);
                    if (size[i] > 1 && stride[i] == 0) {
                        throw new ModelFormatException(path, name, "dimension " + i
                                + " has stride 0 (a broadcast view), which is not supported");
                    }
                    if (size[i] > 0) {
                        last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                    }
                }
            } catch (ArithmeticException ex) {
                throw new ModelFormatException(path, name, "size " + TensorInfo.formatShape(size) + " is too large");
            }
            if (numel > 0 && (last >= storageNumel || numel > storageNumel)) {
                throw new ModelFormatException(path, name, "view " + TensorInfo.formatShape(size) + " with strides "
                        + TensorInfo.formatShape(stride) + " at offset " + t.storageOffset()
                        + " does not fit its storage of " + storageNumel + " elements");
            }
            long start = d.offset + t.storageOffset() * es;
            tensors.put(name, new TensorInfo(name, s.dtype(), size, start, numel * es));
            views.put(name, new View(d.offset, storageNumel, t.storageOffset(), size, stride));
        }
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        return o instanceof Py.Tuple ? "tuple" : o instanceof Py.PyList ? "list" : o.getClass().getSimpleName();
    }

    @Override
    public Path path() {
        return path;
    }

    /** Which torch.save layout the file has. */
    public Format format() {
        return format;
    }

    /**
     * Every tensor, in the state dict's order; {@link TensorInfo#offset()} is the file offset of the tensor's first
     * element and {@link TensorInfo#byteSize()} the size of its contiguous copy.
     */
    @Override
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** Checkpoints carry no string metadata. */
    @Override
    public Map<String, String> metadata() {
        return Map.of();
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

    /** Copies the viewed elements, row-major and contiguous. */
    @Override
    public void read(TensorInfo tensor, MemorySegment dst) {
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + " is closed");
        }
        TensorBytes.checkDestination(tensor, dst);
        View v = views.get(tensor.name());
        if (v == null || !tensor.equals(tensors.get(tensor.name()))) {
            throw new ModelFormatException(path, tensor.name(), "is not a tensor of this file");
        }
        if (tensor.byteSize() == 0) {
            return;
        }
        int es = tensor.dtype().byteSize();
        if (isContiguous(v.size, v.stride)) {
            TensorBytes.readFully(channel, tensor.offset(), dst, path, tensor.name());
            return;
        }
        long span = 1;
        for (int i = 0; i < v.size.length; i++) {
            span += (v.size[i] - 1) * v.stride[i];
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(span * es, 8);
            TensorBytes.readFully(channel, tensor.offset(), src, path, tensor.name());
            gather(src, dst, v.size, v.stride, es);
        }
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= size[i];
        }
        return true;
    }

    /** Copies a strided view of {@code src} into {@code dst} in row-major order. */
    private static void gather(MemorySegment src, MemorySegment dst, long[] size, long[] stride, int es) {
        int rank = size.length;
        long[] index = new long[rank];
        long n = dst.byteSize() / es;
        long srcElem = 0;
        for (long out = 0; out < n; out++) {
            MemorySegment.copy(src, srcElem * es, dst, out * es, es);
            for (int d = rank - 1; d >= 0; d--) {
                index[d]++;
                srcElem += stride[d];
                if (index[d] < size[d]) {
                    break;
                }
                srcElem -= index[d] * stride[d];
                index[d] = 0;
            }
        }
    }

    @Override
    public float[] readFloats(String name) {
        return TensorBytes.readFloats(this, info(name));
    }

    @Override
    public void close() {
        close(channel);
    }

    @Override
    public String toString() {
        return "CkptFile[" + path + ", " + format + ", " + tensors.size() + " tensors]";
    }
}
