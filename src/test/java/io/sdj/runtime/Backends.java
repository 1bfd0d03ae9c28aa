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

    /** The shared backend for {@code name} ("cpu", "vulkan"); fails if that backend is missing. */
    public static Backend get(String name) {
        return OPEN.computeIfAbsent(name, n -> {
            Backend b = Backend.open(n);
            b.setThreads(2);
            return b;
        });
    }
}
