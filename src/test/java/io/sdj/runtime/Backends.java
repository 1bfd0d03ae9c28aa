package io.sdj.runtime;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Test support: one backend per name for the whole test JVM (Vulkan pipelines are costly to create). */
public final class Backends {
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(Backend::close)));
    }

    private Backends() {
    }

    /**
     * The shared backend for {@code name} ("cpu", "vulkan"); fails if that backend is missing. The CPU backend has
     * its BLAS partner when the runtime has one (the library's default).
     */
    public static Backend get(String name) {
        return OPEN.computeIfAbsent(name, n -> {
            Backend b = Backend.open(n);
            b.setThreads(2);
            return b;
        });
    }

    /** The shared CPU backend without a BLAS partner: ggml's own kernels for every product (sd-cli's). */
    public static Backend cpuWithoutBlas() {
        return OPEN.computeIfAbsent("cpu without blas", n -> {
            Backend b = Backend.open("cpu", false);
            b.setThreads(2);
            return b;
        });
    }
}
