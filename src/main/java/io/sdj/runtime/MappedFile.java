package io.sdj.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A whole file mapped copy-on-write ({@code mmap(PROT_READ | PROT_WRITE, MAP_PRIVATE)} on a read-only descriptor):
 * its pages are the page cache's until something writes to one, which then gets a private copy; the file itself
 * never changes and needs no write permission. {@link java.nio.channels.FileChannel#map} cannot do this (its
 * private mode needs a writable channel), so this calls the C library through FFM. POSIX systems only: elsewhere
 * {@link #map} returns empty. Closing unmaps; the segment must not be used afterwards.
 */
public final class MappedFile implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    /** Linux 5.14+: fault a range's pages in now, in one call, as reads. */
    private static final int MADV_POPULATE_READ = 22;
    private static final long PAGE = 4096;
    private static final Native NATIVE = Native.load();
    /** MAP_ANONYMOUS: Linux's and the BSDs' (macOS) values; 0 where neither is known. */
    private static final int ANONYMOUS = anonymousFlag();

    private final Path path;
    private final MemorySegment segment;
    private boolean closed;

    private MappedFile(Path path, MemorySegment segment) {
        this.path = path;
        this.segment = segment;
    }

    /**
     * Maps {@code file} copy-on-write.
     *
     * @return empty where the platform has no POSIX mmap
     * @throws GgmlException if the file cannot be opened or mapped (the message has the C library's errno)
     */
    public static Optional<MappedFile> map(Path file) {
        if (NATIVE == null) {
            return Optional.empty();
        }
        try (Arena a = Arena.ofConfined()) {
            long size = Files.size(file);
            if (size == 0) {
                throw new GgmlException("cannot map " + file + ": it is empty");
            }
            MemorySegment state = a.allocate(NATIVE.stateLayout);
            int fd = (int) NATIVE.open.invokeExact(state, a.allocateFrom(file.toAbsolutePath().toString()), O_RDONLY);
            if (fd < 0) {
                throw new GgmlException("cannot open " + file + " for mapping (errno " + NATIVE.errno(state) + ")");
            }
            MemorySegment addr;
            try {
                addr = (MemorySegment) NATIVE.mmap.invokeExact(state, MemorySegment.NULL, size,
                        PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0L);
            } finally {
                int ignored = (int) NATIVE.close.invokeExact(state, fd); // the mapping keeps the file open
            }
            if (mapFailed(addr)) {
                throw new GgmlException("cannot map " + file + " (" + size + " bytes, errno " + NATIVE.errno(state) + ")");
            }
            return Optional.of(new MappedFile(file, addr.reinterpret(size)));
        } catch (GgmlException e) {
            throw e;
        } catch (Throwable e) {
            throw new GgmlException("cannot map " + file + ": " + e.getMessage());
        }
    }

    /**
     * Maps {@code size} bytes of fresh zeroed pages, private to this process, straight from the kernel
     * ({@code mmap(MAP_PRIVATE | MAP_ANONYMOUS)}), so that {@link #unmapPages} returns them at once; memory from the
     * C heap may stay resident after it is freed.
     *
     * @return empty where the platform has no POSIX mmap
     * @throws GgmlException if the kernel refuses the mapping (the message has the C library's errno)
     */
    static Optional<MemorySegment> mapPages(long size) {
        if (NATIVE == null || ANONYMOUS == 0) {
            return Optional.empty();
        }
        if (size <= 0) {
            throw new IllegalArgumentException("cannot map " + size + " bytes");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(NATIVE.stateLayout);
            MemorySegment addr = (MemorySegment) NATIVE.mmap.invokeExact(state, MemorySegment.NULL, size,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | ANONYMOUS, -1, 0L);
            if (mapFailed(addr)) {
                throw new GgmlException("cannot map " + (size >> 20) + " MiB of scratch memory (errno "
                        + NATIVE.errno(state) + ")");
            }
            return Optional.of(addr.reinterpret(size));
        } catch (GgmlException e) {
            throw e;
        } catch (Throwable e) {
            throw new GgmlException("cannot map " + size + " bytes of scratch memory: " + e.getMessage());
        }
    }

    /** Unmaps pages from {@link #mapPages}; the segment must not be used afterwards. */
    static void unmapPages(MemorySegment pages) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(NATIVE.stateLayout);
            int ignored = (int) NATIVE.munmap.invokeExact(state, pages, pages.byteSize());
        } catch (Throwable e) {
            throw new GgmlException("cannot unmap scratch memory: " + e.getMessage());
        }
    }

    /**
     * Asks the kernel to map a range's pages now, in bulk ({@code madvise(MADV_POPULATE_READ)}), rather than one
     * page fault at a time on first use. Best effort: where the kernel lacks it (before Linux 5.14, other systems)
     * nothing happens and the pages are faulted in on first use as usual.
     *
     * @return whether the kernel did it
     */
    public boolean populate(long offset, long length) {
        MemorySegment seg = segment();
        if (offset < 0 || length <= 0 || offset + length > seg.byteSize()) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " is outside " + this);
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return false;
        }
        long start = offset / PAGE * PAGE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(NATIVE.stateLayout);
            MemorySegment addr = MemorySegment.ofAddress(seg.address() + start);
            int rc = (int) NATIVE.madvise.invokeExact(state, addr, offset + length - start, MADV_POPULATE_READ);
            return rc == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** The mapped bytes (page-aligned). */
    public MemorySegment segment() {
        if (closed) {
            throw new IllegalStateException(path + " is unmapped");
        }
        return segment;
    }

    public Path path() {
        return path;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(NATIVE.stateLayout);
            int ignored = (int) NATIVE.munmap.invokeExact(state, segment, segment.byteSize());
        } catch (Throwable e) {
            throw new GgmlException("cannot unmap " + path + ": " + e.getMessage());
        }
    }

    /** mmap's MAP_FAILED ((void *) -1), or a null address. */
    private static boolean mapFailed(MemorySegment addr) {
        return addr.address() == -1L || addr.address() == 0L;
    }

    private static int anonymousFlag() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            return 0x20;
        }
        return os.startsWith("mac") || os.contains("bsd") ? 0x1000 : 0;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "MappedFile[%s, %d bytes]", path, segment.byteSize());
    }

    /** The C library's open, mmap, munmap and close, each capturing errno. */
    private record Native(MethodHandle open, MethodHandle mmap, MethodHandle munmap, MethodHandle close,
                          MethodHandle madvise, StructLayout stateLayout, VarHandle errnoHandle) {
        static Native load() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            if (os.startsWith("windows")) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                StructLayout layout = Linker.Option.captureStateLayout();
                VarHandle eh = layout.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
                ValueLayout sz = ValueLayout.JAVA_LONG;
                return new Native(
                        linker.downcallHandle(libc.findOrThrow("open"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno, Linker.Option.firstVariadicArg(2)),
                        linker.downcallHandle(libc.findOrThrow("mmap"), FunctionDescriptor.of(ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS, sz, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), errno),
                        linker.downcallHandle(libc.findOrThrow("munmap"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, sz), errno),
                        linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT), errno),
                        linker.downcallHandle(libc.findOrThrow("madvise"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, sz, ValueLayout.JAVA_INT), errno),
                        layout, eh);
            } catch (RuntimeException e) {
                return null;
            }
        }

        int errno(MemorySegment state) {
            return (int) errnoHandle.get(state, 0L);
        }
    }
}
