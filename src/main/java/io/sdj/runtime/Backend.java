package io.sdj.runtime;

import io.sdj.InvalidParameterException;
import io.sdj.ggml.ggml_backend_feature;
import io.sdj.ggml.ggml_backend_get_features_t;
import io.sdj.ggml.ggml_backend_set_n_threads_t;
import io.sdj.ggml.ggml_h;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A ggml compute backend on one device (CPU, Vulkan, CUDA, ...). Open with {@link #open(String)}; close to free it.
 * A backend is used by one computation at a time.
 */
public final class Backend implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Backend.class);

    private final DeviceInfo device;
    private final MemorySegment handle;
    private final MemorySegment registry;
    private final BlasPartner blas;
    private final BlasUse blasUse;
    private volatile boolean closed;
    private int threads;

    private Backend(DeviceInfo device, MemorySegment handle, MemorySegment registry, BlasPartner blas,
                    BlasUse blasUse) {
        this.device = device;
        this.handle = handle;
        this.registry = registry;
        this.blas = blas;
        this.blasUse = blas == null ? BlasUse.OFF : blasUse;
    }

    /** Every device ggml knows in this process (registering every backend plugin the runtime has). */
    public static List<DeviceInfo> devices() {
        GgmlLibrary.loadAllBackends();
        return registeredDevices();
    }

    /** The devices of the backends registered so far. */
    private static List<DeviceInfo> registeredDevices() {
        List<DeviceInfo> list = new ArrayList<>();
        long n = ggml_h.ggml_backend_dev_count();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = a.allocate(ValueLayout.JAVA_LONG);
            for (int i = 0; i < n; i++) {
                MemorySegment dev = ggml_h.ggml_backend_dev_get(i);
                ggml_h.ggml_backend_dev_memory(dev, free, total);
                MemorySegment reg = ggml_h.ggml_backend_dev_backend_reg(dev);
                list.add(new DeviceInfo(i, str(ggml_h.ggml_backend_dev_name(dev)),
                        str(ggml_h.ggml_backend_dev_description(dev)), str(ggml_h.ggml_backend_reg_name(reg)),
                        DeviceInfo.Type.of(ggml_h.ggml_backend_dev_type(dev)), free.get(ValueLayout.JAVA_LONG, 0),
                        total.get(ValueLayout.JAVA_LONG, 0)));
            }
        }
        return list;
    }

    /**
     * Opens a backend by name: {@code cpu}; a backend name such as {@code vulkan} or {@code cuda} (its first device);
     * a device name such as {@code Vulkan1}; or {@code best}/{@code auto}: the first hardware GPU, else the CPU.
     * Names are case-insensitive. The CPU backend takes ggml's BLAS backend for its matrix products when the runtime
     * has one, for the graphs {@link BlasUse#byDefault()} names.
     */
    public static Backend open(String name) {
        return open(name, BlasUse.byDefault());
    }

    /** {@link #open(String, BlasUse)}: {@link BlasUse#UNQUANTIZED} when {@code blas}, else {@link BlasUse#OFF}. */
    public static Backend open(String name, boolean blas) {
        return open(name, blas ? BlasUse.UNQUANTIZED : BlasUse.OFF);
    }

    /**
     * {@link #open(String)}, saying which graphs of a CPU backend hand their large matrix products to ggml's BLAS
     * backend (when the runtime has one; without it the setting changes nothing). Other backends ignore it.
     */
    public static Backend open(String name, BlasUse use) {
        boolean blas = use != null && use != BlasUse.OFF;
        // The CPU alone needs no GPU backend: registering Vulkan would start its loader and drivers (lavapipe: LLVM).
        String n = name == null ? "" : name.trim();
        if (n.equalsIgnoreCase("cpu")) {
            GgmlLibrary.loadCpuBackends();
        } else if (n.equalsIgnoreCase("best") || n.equalsIgnoreCase("auto")) {
            GgmlLibrary.loadBackendsForBest();
        } else {
            GgmlLibrary.loadAllBackends();
        }
        List<DeviceInfo> devices = registeredDevices();
        DeviceInfo chosen = choose(name, devices);
        MemorySegment dev = ggml_h.ggml_backend_dev_get(chosen.index());
        MemorySegment handle = ggml_h.ggml_backend_dev_init(dev, MemorySegment.NULL);
        if (handle.equals(MemorySegment.NULL)) {
            throw new GgmlException("ggml could not initialise device " + chosen);
        }
        BlasPartner partner = blas && chosen.type() == DeviceInfo.Type.CPU ? BlasPartner.open(devices).orElse(null)
                : null;
        LOG.info("backend: {}{}", chosen, partner == null ? "" : "; matrix products: " + partner.description());
        Backend backend = new Backend(chosen, handle, ggml_h.ggml_backend_dev_backend_reg(dev), partner, use);
        if (backend.isCpu() && LOG.isInfoEnabled()) {
            LOG.info("CPU features: {}", backend.features().entrySet().stream()
                    .map(e -> e.getValue().equals("1") ? e.getKey() : e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(" ")));
        }
        return backend;
    }

    /** The CPU backend. */
    public static Backend cpu() {
        return open("cpu");
    }

    static DeviceInfo choose(String name, List<DeviceInfo> devices) {
        if (name == null || name.isBlank()) {
            throw new InvalidParameterException("backend", "no backend name given");
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("best") || n.equals("auto")) {
            return devices.stream().filter(d -> d.type() == DeviceInfo.Type.GPU && !d.isSoftware()).findFirst()
                    .or(() -> devices.stream().filter(d -> d.type() == DeviceInfo.Type.IGPU && !d.isSoftware()).findFirst())
                    .or(() -> devices.stream().filter(d -> d.type() == DeviceInfo.Type.CPU).findFirst())
                    .orElseThrow(() -> unknown(name, devices));
        }
        if (n.equals("blas")) {
            throw new InvalidParameterException("backend", "'" + name + "' is not a backend of its own: ggml's BLAS"
                    + " backend only multiplies matrices, and the CPU backend hands it its large products by itself"
                    + " (--backend cpu; --no-blas keeps them on the CPU backend)");
        }
        for (DeviceInfo d : devices) {
            if (d.name().equalsIgnoreCase(n)) {
                return d;
            }
        }
        for (DeviceInfo d : devices) {
            if (d.backend().equalsIgnoreCase(n)) {
                return d;
            }
        }
        throw unknown(name, devices);
    }

    private static UnknownBackendException unknown(String name, List<DeviceInfo> devices) {
        return new UnknownBackendException("unknown backend '" + name + "'; available: best, "
                + devices.stream().map(d -> d.backend().toLowerCase(Locale.ROOT) + " (" + d.name() + ": "
                + d.description() + ")").distinct().collect(Collectors.joining(", "))
                + (devices.stream().noneMatch(d -> d.backend().equalsIgnoreCase("vulkan"))
                ? ". No Vulkan device was found (the Vulkan backend needs a Vulkan loader and driver)" : ""));
    }

    /** The device this backend runs on. */
    public DeviceInfo device() {
        return device;
    }

    /** Bytes of memory the device reports free now (for the CPU: the system's available memory). */
    public long freeMemory() {
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = a.allocate(ValueLayout.JAVA_LONG);
            ggml_h.ggml_backend_dev_memory(ggml_h.ggml_backend_get_device(handle), free, total);
            return free.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** True for ggml's CPU backend. */
    public boolean isCpu() {
        return device.type() == DeviceInfo.Type.CPU;
    }

    /** True when this CPU backend hands its large matrix products to ggml's BLAS backend. */
    public boolean hasBlas() {
        return blas != null;
    }

    /** Which graphs use the BLAS partner ({@link BlasUse#OFF} without one). */
    public BlasUse blasUse() {
        return blasUse;
    }

    /** What runs the matrix products: the BLAS library's description, or ggml's own kernels. */
    public String matrixProducts() {
        return blas != null ? blas.description() : "ggml's " + device.backend() + " kernels";
    }

    /**
     * Sets the number of compute threads (CPU backend and its BLAS partner; ignored elsewhere). Values below 1 mean
     * the number of physical cores, sd-cli's default ({@link PhysicalCores}). More threads than the processors the
     * JVM may use are cut to that number, with a warning ({@link #threadsFor}).
     */
    public void setThreads(int n) {
        checkOpen();
        int available = Runtime.getRuntime().availableProcessors();
        int t = threadsFor(n, available);
        if (t < n) {
            LOG.warn("{} threads asked for, but only {} processors are available: using {} (more threads than"
                    + " processors make every ggml operation wait for the others to be scheduled)", n, available, t);
        }
        LOG.debug("{}: {} compute threads", device.name(), t);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fn = ggml_h.ggml_backend_reg_get_proc_address(registry, a.allocateFrom("ggml_backend_set_n_threads"));
            if (!fn.equals(MemorySegment.NULL)) {
                ggml_backend_set_n_threads_t.invoke(fn, handle, t);
                threads = t;
            }
        }
        if (blas != null) {
            blas.setThreads(t);
        }
    }

    /**
     * The thread count for a request: the physical cores for {@code n < 1}; {@code n} itself up to the
     * {@code available} processors; {@code available} above that. ggml's CPU backend meets at a barrier after every
     * operation, so threads beyond the processors only wait: on 2 processors a 16² image with a tiny model took
     * over 300 s with 16 threads, and 1.3 s with 2. ggml's results do not depend on the count.
     */
    static int threadsFor(int n, int available) {
        if (n < 1) {
            return PhysicalCores.count();
        }
        return Math.min(n, Math.max(1, available));
    }

    /**
     * The features the backend's library was built with, as ggml reports them ({@code ggml_backend_get_features}):
     * for the CPU backend the SIMD extensions of the variant ggml loaded for this CPU, e.g. {@code AVX2=1},
     * {@code AVX512=1}, {@code OPENMP=1}, in ggml's order. Empty when the backend does not report any. sd-cli prints
     * the same list as its "System Info".
     */
    public Map<String, String> features() {
        checkOpen();
        return features(registry);
    }

    /** {@link #features()} of a backend registry. */
    static Map<String, String> features(MemorySegment registry) {
        Map<String, String> features = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fn = ggml_h.ggml_backend_reg_get_proc_address(registry, a.allocateFrom("ggml_backend_get_features"));
            if (fn.equals(MemorySegment.NULL)) {
                return Map.of();
            }
            MemorySegment list = ggml_backend_get_features_t.invoke(fn, registry);
            if (list.equals(MemorySegment.NULL)) {
                return Map.of();
            }
            // A NULL name ends the array; 256 entries is far beyond any ggml backend's list.
            for (int i = 0; i < 256; i++) {
                MemorySegment entry = ggml_backend_feature.asSlice(
                        list.reinterpret(ggml_backend_feature.sizeof() * (i + 1L)), i);
                MemorySegment name = ggml_backend_feature.name(entry);
                if (name.equals(MemorySegment.NULL)) {
                    break;
                }
                features.put(str(name), str(ggml_backend_feature.value(entry)));
            }
        }
        return Collections.unmodifiableMap(features);
    }

    /** The thread count last set, or 0 if never set. */
    public int threads() {
        return threads;
    }

    MemorySegment handle() {
        checkOpen();
        return handle;
    }

    /** The BLAS backend paired with this CPU backend, or NULL. */
    MemorySegment blasHandle() {
        checkOpen();
        return blas == null ? MemorySegment.NULL : blas.handle();
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("backend " + device.name() + " is closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (blas != null) {
                blas.close();
            }
            ggml_h.ggml_backend_free(handle);
        }
    }

    static String str(MemorySegment cstr) {
        return cstr.equals(MemorySegment.NULL) ? "" : cstr.reinterpret(Integer.MAX_VALUE).getString(0);
    }

    @Override
    public String toString() {
        return "Backend[" + device + "]";
    }
}
