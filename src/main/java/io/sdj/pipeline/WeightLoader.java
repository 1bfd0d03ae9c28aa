package io.sdj.pipeline;

import io.sdj.family.WeightTypePolicy;
import io.sdj.model.Component;
import io.sdj.model.ModelFormatException;
import io.sdj.model.StoredRegion;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlException;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.MappedFile;
import io.sdj.runtime.ScratchSpace;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.TypeConverter;
import io.sdj.runtime.WeightStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loads weights from a {@link TensorSource} onto a backend.
 *
 * <ul>
 *   <li>On the CPU backend, a tensor used in the type the file stores it in (F16 kernels and linear weights of an
 *       F16 file, F32 of an F32 file, GGUF blocks kept as they are) is not copied at all: the file is memory-mapped
 *       copy-on-write ({@link MappedFile}) and the tensor points into the mapping, so its pages are shared with the page cache (and
 *       mapped in bulk at load, {@link MappedFile#populate}, rather than one fault at a time on first use).</li>
 *   <li>Every other tensor is read into a native scratch buffer, converted to the type {@link WeightTypePolicy}
 *       picks with ggml's own conversion and quantization (or copied as it is when the types agree), and copied to
 *       the backend, by a small pool of threads, one tensor per task: quantization is the slow part and runs on
 *       every core.</li>
 * </ul>
 * Neither Java heap nor native memory grows with the model size beyond the weights themselves and one scratch
 * space per thread ({@link ScratchSpace}: sized for the largest tensor, reused, and given back to the system when the
 * load ends). The results are the same bytes whichever way a tensor was loaded.
 */
final class WeightLoader {
    private static final Logger LOG = LoggerFactory.getLogger(WeightLoader.class);

    /** Told after each tensor, on the calling thread. */
    interface LoadProgress {
        void loaded(int done, int total);
    }

    /**
     * How to load.
     *
     * @param mapFiles memory-map tensors used as stored (CPU backend only; ignored elsewhere)
     * @param threads  threads that read and convert; ≤ 0 means one per available processor (at most 8)
     */
    record Options(boolean mapFiles, int threads) {
        /** Mapping on, one thread per processor. */
        static final Options DEFAULT = new Options(true, 0);

        int threadCount(int tasks) {
            int n = threads > 0 ? threads : Math.min(8, Runtime.getRuntime().availableProcessors());
            return Math.max(1, Math.min(n, tasks));
        }
    }

    private WeightLoader() {
    }

    /** {@link #load(TensorSource, Collection, List, Backend, WeightTypePolicy, String, Options, LoadProgress)} with {@link Options#DEFAULT}. */
    static WeightStore load(TensorSource source, Collection<String> names, List<Component> components,
                            Backend backend, WeightTypePolicy policy, String label, LoadProgress progress) {
        return load(source, names, components, backend, policy, label, Options.DEFAULT, progress);
    }

    /**
     * Loads the named tensors into one store on the backend.
     *
     * @param names      the tensors to load (each must be in the source)
     * @param components the components the names belong to (for the type policy's local names)
     * @param progress   called with the number of tensors loaded so far
     */
    static WeightStore load(TensorSource source, Collection<String> names, List<Component> components,
                            Backend backend, WeightTypePolicy policy, String label, Options options,
                            LoadProgress progress) {
        Map<String, TensorInfo> chosen = new LinkedHashMap<>();
        for (String n : names) {
            TensorInfo t = source.tensors().get(n);
            if (t == null) {
                throw new ModelFormatException(source.path(), n, "missing");
            }
            chosen.put(n, t);
        }
        WeightStore store = new WeightStore(label, chosen.size());
        try {
            Map<String, GgmlType> types = new LinkedHashMap<>();
            for (TensorInfo t : chosen.values()) {
                GgmlType type = policy.typeOf(source.path(), t, localName(t.name(), components));
                types.put(t.name(), type);
                if (t.rank() == 4 && type != GgmlType.F16 && type != GgmlType.F32) {
                    // ggml's convolution takes F16/F32 kernels only (im2col in BF16 aborts), and a quantized row
                    // cannot be KW long: other kernel types go through the matrix product
                    store.createKernelMatrix(t.name(), type, ggmlShape(t.shape()));
                } else {
                    store.create(t.name(), type, ggmlShape(t.shape()));
                }
            }
            List<TensorInfo> toCopy = new ArrayList<>(chosen.values());
            if (options.mapFiles() && backend.isCpu()) {
                toCopy.removeAll(mapAsStored(source, chosen.values(), types, store, backend));
            }
            store.allocate(backend);
            int done = chosen.size() - toCopy.size();
            if (done > 0) {
                progress.loaded(done, chosen.size());
            }
            copy(source, toCopy, types, store, backend, options.threadCount(toCopy.size()), done, chosen.size(),
                    progress);
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Places every tensor that is used as the file stores it (and suitably aligned there) in a copy-on-write mapping
     * of its file, owned by the store. Returns the tensors placed; a file that cannot be mapped is logged and left to
     * be copied.
     */
    private static List<TensorInfo> mapAsStored(TensorSource source, Collection<TensorInfo> tensors,
                                                Map<String, GgmlType> types, WeightStore store, Backend backend) {
        Map<Path, Map<String, Long>> byFile = new LinkedHashMap<>();
        List<TensorInfo> placed = new ArrayList<>();
        for (TensorInfo t : tensors) {
            GgmlType to = types.get(t.name());
            if (!to.name().equals(t.dtype().name())) {
                continue;
            }
            Optional<StoredRegion> r = source.storedRegion(t);
            if (r.isEmpty() || r.get().length() != t.byteSize() || r.get().offset() % alignment(to) != 0) {
                continue;
            }
            byFile.computeIfAbsent(r.get().file(), f -> new LinkedHashMap<>()).put(t.name(), r.get().offset());
            placed.add(t);
        }
        for (Map.Entry<Path, Map<String, Long>> e : byFile.entrySet()) {
            Optional<MappedFile> mapping;
            try {
                mapping = MappedFile.map(e.getKey());
            } catch (GgmlException ex) {
                LOG.warn("{}; copying its weights instead", ex.getMessage());
                mapping = Optional.empty();
            }
            if (mapping.isEmpty()) {
                placed.removeIf(t -> e.getValue().containsKey(t.name()));
                continue;
            }
            MappedFile m = mapping.get();
            for (Map.Entry<String, Long> t : e.getValue().entrySet()) {
                m.populate(t.getValue(), store.get(t.getKey()).byteSize());
            }
            store.placeInHostMemory(backend, m, e.getValue());
            LOG.debug("{}: {} tensors used as stored, mapped instead of copied", e.getKey(), e.getValue().size());
        }
        return placed;
    }

    /** The alignment a mapped tensor's first byte needs: its element's (or, quantized, its block scale's). */
    private static int alignment(GgmlType type) {
        return type == GgmlType.F32 ? 4 : 2;
    }

    /** Reads, converts and uploads tensors on {@code threads} threads; progress is reported on this thread. */
    private static void copy(TensorSource source, List<TensorInfo> tensors, Map<String, GgmlType> types,
                             WeightStore store, Backend backend, int threads, int doneBefore, int total,
                             LoadProgress progress) {
        if (tensors.isEmpty()) {
            return;
        }
        // The CPU backend's tensor_set is a memcpy into disjoint memory; other backends upload one at a time.
        Object uploadLock = backend.isCpu() ? null : new Object();
        BlockingQueue<ScratchSpace> spaces = new ArrayBlockingQueue<>(threads);
        for (int i = 0; i < threads; i++) {
            spaces.add(new ScratchSpace());
        }
        try {
            if (threads == 1) {
                ScratchSpace scratch = spaces.peek();
                int done = doneBefore;
                for (TensorInfo t : tensors) {
                    fill(source, t, store.get(t.name()), types.get(t.name()), scratch, uploadLock);
                    progress.loaded(++done, total);
                }
                return;
            }
            copyInParallel(source, tensors, types, store, threads, spaces, uploadLock, doneBefore, total, progress);
        } finally {
            spaces.forEach(ScratchSpace::close); // every task has ended: no one uses them any more
        }
    }

    /** {@link #copy} on a pool of threads, each task borrowing one of the scratch spaces. */
    private static void copyInParallel(TensorSource source, List<TensorInfo> tensors, Map<String, GgmlType> types,
                                       WeightStore store, int threads, BlockingQueue<ScratchSpace> spaces,
                                       Object uploadLock, int doneBefore, int total, LoadProgress progress) {
        AtomicInteger worker = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "sdj-load-" + worker.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        try {
            CompletionService<TensorInfo> done = new ExecutorCompletionService<>(pool);
            for (TensorInfo t : tensors) {
                done.submit(() -> {
                    ScratchSpace scratch = spaces.take(); // one per pool thread: never waits
                    try {
                        fill(source, t, store.get(t.name()), types.get(t.name()), scratch, uploadLock);
                    } finally {
                        spaces.add(scratch);
                    }
                    return t;
                });
            }
            int n = doneBefore;
            for (int i = 0; i < tensors.size(); i++) {
                Future<TensorInfo> f = done.take();
                f.get();
                progress.loaded(++n, total);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading weights", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
            awaitQuietly(pool); // no task may still write into the store when the caller closes it
        }
    }

    private static void awaitQuietly(ExecutorService pool) {
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One tensor: read into scratch, convert when the types differ, upload. */
    private static void fill(TensorSource source, TensorInfo t, Tensor dst, GgmlType to, ScratchSpace scratch,
                             Object uploadLock) {
        long rowLength = dst.ne(0); // the file's row, or a kernel matrix's KW·KH·IC (same elements, same order)
        long rows = t.elementCount() / rowLength;
        GgmlType from = GgmlType.valueOf(t.dtype().name());
        scratch.reset();
        MemorySegment src = scratch.allocate(t.byteSize(), 64);
        source.read(t, src);
        MemorySegment data = src;
        if (from != to) {
            data = scratch.allocate(to.rowBytes(rowLength) * rows, 64);
            // kernel matrices (sdj's quantized convolutions, which sd.cpp never makes) take ggml's fast rounding
            TypeConverter.convert(src, from, data, to, rows, rowLength, scratch,
                    t.rank() == 4 && to.isQuantized() ? TypeConverter.Rounding.PLAIN : TypeConverter.Rounding.SD_CPP);
        }
        if (uploadLock == null) {
            dst.write(data, 0);
        } else {
            synchronized (uploadLock) {
                dst.write(data, 0);
            }
        }
    }

    private static String localName(String name, List<Component> components) {
        for (Component c : components) {
            if (c.owns(name)) {
                return c.local(name);
            }
        }
        return name;
    }

    /** Row-major (outermost first) to ggml order (innermost first). */
    static long[] ggmlShape(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }
}
