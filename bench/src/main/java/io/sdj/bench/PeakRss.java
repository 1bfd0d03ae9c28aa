package io.sdj.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The peak resident set size of this process, from Linux's {@code /proc/self/status}. */
public final class PeakRss {
    private static final Path STATUS = Path.of("/proc/self/status");

    private PeakRss() {
    }

    /** VmHWM in MiB, or NaN where /proc is not there (not Linux). */
    public static double mebibytes() {
        try {
            return parseVmHwm(Files.readString(STATUS));
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    /** The VmHWM line of a /proc/PID/status text, in MiB; NaN when it has none. */
    static double parseVmHwm(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
                long kib = Long.parseLong(parts[0]);
                return kib / 1024.0;
            }
        }
        return Double.NaN;
    }
}
