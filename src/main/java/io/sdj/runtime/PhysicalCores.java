package io.sdj.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The number of physical CPU cores, which sd-cli uses when {@code -t} is ≤ 0: on Linux the distinct hyper-thread
 * sibling sets under {@code /sys/devices/system/cpu/cpuN/topology/thread_siblings}; elsewhere, or when those files
 * are missing, the processors the JVM may use. The result never exceeds
 * {@link Runtime#availableProcessors()}, so a container limited to fewer CPUs than the host has gets its limit.
 */
public final class PhysicalCores {

    private PhysicalCores() {
    }

    /** Physical cores of this machine, at least 1. */
    public static int count() {
        return count(Path.of("/sys/devices/system/cpu"), Runtime.getRuntime().availableProcessors());
    }

    static int count(Path cpuRoot, int available) {
        Set<String> siblingSets = new HashSet<>();
        for (int cpu = 0; ; cpu++) {
            Path f = cpuRoot.resolve("cpu" + cpu).resolve("topology").resolve("thread_siblings");
            if (!Files.isRegularFile(f)) {
                break;
            }
            try {
                siblingSets.add(Files.readString(f).trim());
            } catch (IOException e) {
                break;
            }
        }
        int cores = siblingSets.isEmpty() ? available : siblingSets.size();
        return Math.max(1, Math.min(cores, available));
    }
}
