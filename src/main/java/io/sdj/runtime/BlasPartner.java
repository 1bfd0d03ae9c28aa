package io.sdj.runtime;

import io.sdj.ggml.ggml_backend_set_n_threads_t;
import io.sdj.ggml.ggml_h;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

/**
 * ggml's BLAS backend, paired with a CPU backend: the scheduler ({@link CompiledGraph}) hands it the graph's large
 * matrix products (both sides at least 32 wide, the right operand F32), which it converts to F32 and multiplies
 * with the BLAS library's sgemm; every other operation stays on the CPU backend. Both read and write the same host
 * memory, so nothing is copied between them.
 *
 * <p>Debian's ggml links the generic {@code libblas.so.3}; the runtime provides OpenBLAS (its OpenMP build) there.
 * OpenBLAS keeps its own thread count, which {@link #setThreads} sets along with the backend's.
 */
final class BlasPartner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlasPartner.class);

    /** OpenBLAS's own entry points, when the BLAS library in the process is OpenBLAS. */
    private record OpenBlas(MethodHandle setThreads, String config) {
        static Optional<OpenBlas> find() {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
                Linker linker = Linker.nativeLinker();
                Optional<MemorySegment> set = lib.find("openblas_set_num_threads");
                Optional<MemorySegment> config = lib.find("openblas_get_config");
                if (set.isEmpty()) {
                    return Optional.empty();
                }
                String description = "OpenBLAS";
                if (config.isPresent()) {
                    MemorySegment s = (MemorySegment) linker.downcallHandle(config.get(),
                            FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
                    String c = Backend.str(s).trim(); // e.g. "OpenBLAS 0.3.34 DYNAMIC_ARCH NO_AFFINITY Zen ..."
                    description = c.startsWith("OpenBLAS") ? c : c.isEmpty() ? description : description + " (" + c + ")";
                }
                return Optional.of(new OpenBlas(linker.downcallHandle(set.get(),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)), description));
            } catch (IllegalArgumentException e) {
                return Optional.empty(); // another BLAS (BLIS, MKL, the reference one): its thread count is its own
            } catch (Throwable t) {
                throw new GgmlException("could not query OpenBLAS: " + t);
            }
        }
    }

    private static volatile Optional<OpenBlas> openBlas;

    private final MemorySegment handle;
    private final MemorySegment registry;
    private final String description;
    private boolean closed;

    private BlasPartner(MemorySegment handle, MemorySegment registry, String description) {
        this.handle = handle;
        this.registry = registry;
        this.description = description;
    }

    /** The BLAS backend among {@code devices}, opened; empty when ggml has none (no libggml-blas.so, or no BLAS). */
    static Optional<BlasPartner> open(List<DeviceInfo> devices) {
        for (DeviceInfo d : devices) {
            if (d.backend().equalsIgnoreCase("BLAS")) {
                MemorySegment dev = ggml_h.ggml_backend_dev_get(d.index());
                MemorySegment handle = ggml_h.ggml_backend_dev_init(dev, MemorySegment.NULL);
                if (handle.equals(MemorySegment.NULL)) {
                    LOG.warn("ggml's BLAS backend did not initialise; matrix products stay on the CPU backend");
                    return Optional.empty();
                }
                String what = openBlas().map(OpenBlas::config).orElse("a BLAS library (libblas.so.3)");
                return Optional.of(new BlasPartner(handle, ggml_h.ggml_backend_dev_backend_reg(dev), what));
            }
        }
        return Optional.empty();
    }

    private static Optional<OpenBlas> openBlas() {
        Optional<OpenBlas> o = openBlas;
        if (o == null) {
            synchronized (BlasPartner.class) {
                if (openBlas == null) {
                    openBlas = OpenBlas.find();
                }
                o = openBlas;
            }
        }
        return o;
    }

    MemorySegment handle() {
        return handle;
    }

    /** What multiplies: the library's own description where it gives one. */
    String description() {
        return description;
    }

    /** Threads for the backend's conversions to F32 and for the library's products (OpenBLAS: process-wide). */
    void setThreads(int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fn = ggml_h.ggml_backend_reg_get_proc_address(registry,
                    a.allocateFrom("ggml_backend_set_n_threads"));
            if (!fn.equals(MemorySegment.NULL)) {
                ggml_backend_set_n_threads_t.invoke(fn, handle, n);
            }
        }
        Optional<OpenBlas> o = openBlas();
        if (o.isPresent()) {
            try {
                o.get().setThreads().invokeExact(n);
            } catch (Throwable t) {
                throw new GgmlException("openblas_set_num_threads(" + n + ") failed: " + t);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ggml_h.ggml_backend_free(handle);
        }
    }
}
