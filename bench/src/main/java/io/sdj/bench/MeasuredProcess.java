package io.sdj.bench;

import io.sdj.SdjException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one child process to its end and measures it: wall time as this process sees it (start to exit) and,
 * optionally, its peak RSS through GNU time ({@code /usr/bin/time -f %M}, the largest maximum RSS among the child
 * and its descendants, from wait4's rusage). The child's stdout and stderr go to log files (stderr may be shown
 * live instead).
 *
 * @param exitCode    the child's exit status
 * @param wallSeconds start to exit, as seen by this process
 * @param peakRssMiB  GNU time's maximum RSS in MiB, or NaN when not asked for or not available
 * @param stdout      the child's stdout lines
 * @param stdoutLog   where its stdout was written
 * @param stderrLog   where its stderr was written (null when it was shown live)
 */
public record MeasuredProcess(int exitCode, double wallSeconds, double peakRssMiB, List<String> stdout,
                              Path stdoutLog, Path stderrLog) {
    /** GNU time, which reports a child's maximum RSS. */
    public static final Path GNU_TIME = Path.of("/usr/bin/time");

    public MeasuredProcess {
        stdout = List.copyOf(stdout);
    }

    /** True when GNU time can measure peak RSS here. */
    public static boolean canMeasureRss() {
        return Files.isExecutable(GNU_TIME);
    }

    /**
     * Runs {@code command} and waits for it.
     *
     * @param measureRss   wrap it in GNU time to read its peak RSS (when GNU time is there)
     * @param showStderr   pass its stderr through instead of logging it
     * @param logDir       where the logs go
     * @param logName      base name of the log files
     */
    public static MeasuredProcess run(List<String> command, boolean measureRss, boolean showStderr, Path logDir,
                                      String logName) {
        Path out = logDir.resolve(logName + ".out");
        Path err = showStderr ? null : logDir.resolve(logName + ".err");
        Path timeFile = logDir.resolve(logName + ".time");
        boolean timed = measureRss && canMeasureRss();
        List<String> cmd = new ArrayList<>();
        if (timed) {
            cmd.addAll(List.of(GNU_TIME.toString(), "-f", "%M", "-o", timeFile.toString()));
        }
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile());
        if (err == null) {
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        } else {
            pb.redirectError(err.toFile());
        }
        try {
            Files.deleteIfExists(timeFile);
            long t0 = System.nanoTime();
            Process p = pb.start();
            int code = p.waitFor();
            double wall = (System.nanoTime() - t0) / 1e9;
            double rss = timed ? readTimeFile(timeFile) : Double.NaN;
            return new MeasuredProcess(code, wall, rss, Files.readAllLines(out, StandardCharsets.UTF_8), out, err);
        } catch (IOException e) {
            throw new SdjException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SdjException("interrupted while waiting for " + String.join(" ", command), e);
        }
    }

    /** The last lines of the child's stderr (or stdout) log, for an error message. */
    public String tail(int lines) {
        Path p = stderrLog != null ? stderrLog : stdoutLog;
        try {
            List<String> all = Files.readAllLines(p, StandardCharsets.UTF_8);
            List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
            return String.join("\n", last);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** GNU time's -o file: the last line is the %M figure in KiB (a failed command adds a line before it). */
    static double readTimeFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Double.NaN;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            return Double.NaN;
        }
        try {
            return Long.parseLong(lines.getLast().trim()) / 1024.0;
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
