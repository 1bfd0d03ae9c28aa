package io.sdj.cli;

import io.sdj.model.GoldenModel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded, reproducible fuzzing of the real command ({@link Main#run}) in child JVMs started through the project's
 * launcher ({@code native/bin/java}): mutated safetensors headers and data, odd tiny models, mutated PNG init
 * images and mutated command lines ({@link FuzzCases}). Asserts that no case kills the JVM (signal exit status,
 * hs_err file), none hangs (per-case timeout), and every failure is a typed sdj error with a message.
 *
 * <p>Reproduce one case: {@code -Dsdj.fuzz.seed=S -Dsdj.fuzz.from=I -Dsdj.fuzz.cases=1}.
 */
class FuzzTest {
    private static final long SEED = Long.getLong("sdj.fuzz.seed", 20261202L);
    private static final int CASE_TIMEOUT_S = Integer.getInteger("sdj.fuzz.timeout", 60);

    /** One case's result as the parent saw it. */
    record Outcome(int index, String kind, String outcome, String line) {
    }

    @Test
    void thousandsOfMutatedInputsGiveTypedErrors(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path root) throws Exception {
        int from = Integer.getInteger("sdj.fuzz.from", 0);
        int cases = Integer.getInteger("sdj.fuzz.cases", 2400);
        fuzz(root, from, cases, 2);
    }

    @Test
    @Tag("extended") // about 15 minutes: make test-extended, not CI
    void tensOfThousandsOfMutatedInputsGiveTypedErrors(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path root) throws Exception {
        fuzz(root, 1_000_000, 30_000, 2);
    }

    /** Runs the cases in {@code root}, which JUnit deletes when the test passes and keeps (outcomes.txt) when not. */
    private static void fuzz(Path root, int from, int cases, int children) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(children);
        List<Future<List<Outcome>>> parts = new ArrayList<>();
        int per = (cases + children - 1) / children;
        for (int c = 0; c < children; c++) {
            int a = from + c * per;
            int b = Math.min(from + cases, a + per);
            Path work = Files.createDirectories(root.resolve("child" + c));
            parts.add(pool.submit(() -> runRange(work, a, b)));
        }
        List<Outcome> all = new ArrayList<>();
        for (Future<List<Outcome>> f : parts) {
            all.addAll(f.get());
        }
        pool.shutdown();
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        List<Outcome> bad = new ArrayList<>();
        for (Outcome o : all) {
            counts.computeIfAbsent(o.kind(), k -> new TreeMap<>()).merge(o.outcome(), 1, Integer::sum);
            if (!o.outcome().equals("OK") && !o.outcome().equals("TYPED")) {
                bad.add(o);
            }
        }
        List<Path> hsErr;
        try (Stream<Path> s = Files.walk(root)) {
            hsErr = s.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList();
        }
        Files.write(root.resolve("outcomes.txt"), all.stream().map(Outcome::line).toList());
        System.out.println("outcomes in " + root.resolve("outcomes.txt"));
        System.out.println("fuzz seed " + SEED + ", cases " + from + ".." + (from + cases) + ": " + counts);
        StringBuilder report = new StringBuilder();
        for (Outcome o : bad.subList(0, Math.min(30, bad.size()))) {
            report.append("\n  ").append(o.line());
        }
        assertEquals(cases, all.size(), "every case has an outcome");
        assertTrue(hsErr.isEmpty(), "JVM crash logs: " + hsErr);
        assertTrue(bad.isEmpty(), bad.size() + " cases crashed, hung or gave an untyped error (seed " + SEED + "):" + report);
        long typed = all.stream().filter(o -> o.outcome().equals("TYPED")).count();
        long ok = all.stream().filter(o -> o.outcome().equals("OK")).count();
        if (cases >= 500) { // a reproduction of a few cases need not have the mix
            assertTrue(typed > cases / 4 && ok > cases / 20, "the mix should both fail and succeed: " + counts);
        }
    }

    /** Runs cases [from, to) in as many child JVMs as it takes: one dies or hangs, the next starts after it. */
    private static List<Outcome> runRange(Path work, int from, int to) throws IOException, InterruptedException {
        List<Outcome> outcomes = new ArrayList<>();
        int next = from;
        while (next < to) {
            Process p = child(work, next, to);
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (IOException ignored) {
                    // the child was killed
                }
                lines.add("EOF");
            });
            int current = -1;
            while (true) {
                String line = lines.poll(CASE_TIMEOUT_S, TimeUnit.SECONDS);
                if (line == null) { // no line within the timeout: the current case hangs
                    p.destroyForcibly().waitFor();
                    reader.join();
                    outcomes.add(new Outcome(current, "?", "HANG", "case " + current + " hung for " + CASE_TIMEOUT_S + " s"));
                    next = current + 1;
                    break;
                }
                if (line.startsWith("START ")) {
                    current = Integer.parseInt(line.substring(6));
                } else if (line.startsWith("CASE\t")) {
                    String[] f = line.split("\t", -1);
                    outcomes.add(new Outcome(Integer.parseInt(f[1]), f[2], f[3], line));
                    next = Integer.parseInt(f[1]) + 1;
                    current = -1;
                } else if (line.equals("EOF")) {
                    int status = p.waitFor();
                    if (next < to) {
                        int at = current >= 0 ? current : next;
                        outcomes.add(new Outcome(at, "?", "CRASH", "case " + at + ": the child JVM exited with status "
                                + status + " (stderr in " + work.resolve("child-stderr.txt") + ")"));
                        next = at + 1;
                    }
                    break;
                }
            }
        }
        return outcomes;
    }

    private static Process child(Path work, int from, int to) throws IOException {
        Path launcher = GoldenModel.repoRoot().resolve("native/bin/java");
        List<String> cmd = List.of(launcher.toString(), "-Xmx1g", "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                "-XX:TieredStopAtLevel=1", "-Dsdj.shared=" + GoldenModel.sharedDir(),
                "-cp", System.getProperty("java.class.path"), FuzzChild.class.getName(),
                work.toString(), GoldenModel.merges().toString(), Long.toString(SEED), Integer.toString(from),
                Integer.toString(to));
        return new ProcessBuilder(cmd).directory(work.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(work.resolve("child-stderr.txt").toFile())).start();
    }
}
