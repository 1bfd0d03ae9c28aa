package io.sdj.bench;

import io.sdj.InvalidParameterException;
import io.sdj.SdjException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end benchmark: for every (weight type, backend) configuration it loads the model and generates one
 * image in a fresh JVM ({@link SdjRun}, started through {@code native/bin/java}) so that each run's peak RSS is its
 * own, repeats that {@code --reps} times, optionally alternating with a {@code --compare} command of another
 * implementation, and prints a plain-text table of medians with ratios against the first configuration and against
 * the compare command.
 *
 * <pre>
 * native/bin/java -cp bench/target/sdj-bench.jar io.sdj.bench.EndToEnd --type f16,q4_0 --reps 3
 * </pre>
 */
public final class EndToEnd {
    private final EndToEndOptions options;
    private final Path launcher;
    private final Path logDir;

    EndToEnd(EndToEndOptions options, Path launcher, Path logDir) {
        this.options = options;
        this.launcher = launcher;
        this.logDir = logDir;
    }

    public static void main(String[] args) {
        try {
            EndToEndOptions o = EndToEndOptions.parse(args);
            requireInputs(o);
            Path logDir = Files.createTempDirectory("sdj-bench-");
            ResultTable table = new EndToEnd(o, Launcher.find(o.java()), logDir).run();
            System.out.print(table.render(title(o)));
        } catch (EndToEndOptions.HelpRequested e) {
            System.out.print(EndToEndOptions.usage());
        } catch (SdjException e) {
            System.err.println("sdj-bench: " + e.getMessage());
            System.exit(2);
        } catch (IOException e) {
            System.err.println("sdj-bench: could not create a log folder: " + e.getMessage());
            System.exit(2);
        }
    }

    /** Checks that the model and tokenizer are there, saying how to get them when not. */
    static void requireInputs(EndToEndOptions o) {
        if (!Files.isRegularFile(o.model())) {
            throw new InvalidParameterException("model", "no checkpoint at " + o.model().toAbsolutePath()
                    + "; create the deterministic SD1.5 stand-in with `make model` (it runs java "
                    + "../shared/golden/RandomSd15.java " + EndToEndOptions.DEFAULT_MODEL + " 1, ~2.1 GB) or pass "
                    + "--model PATH");
        }
        if (!Files.exists(o.tokenizer())) {
            throw new InvalidParameterException("tokenizer", "no CLIP merges.txt at " + o.tokenizer().toAbsolutePath()
                    + "; pass --tokenizer PATH (merges.txt or a folder holding it)");
        }
    }

    /** Runs warm-ups, then the repetitions, alternating sdj and compare runs; returns the filled table. */
    ResultTable run() {
        List<Configuration> configs = options.configurations();
        CompareCommand compare = options.compare() == null ? null : new CompareCommand(options.compare());
        ResultTable table = new ResultTable();
        System.err.printf(Locale.ROOT, "sdj-bench: %d configuration(s) x %d rep(s)%s; launcher %s; logs in %s%n",
                configs.size(), options.reps(), compare == null ? "" : " alternating with --compare", launcher, logDir);
        for (int w = 0; w < options.warmup(); w++) {
            for (Configuration c : configs) {
                progress("warm-up " + (w + 1), c.label(), runSdj(c, "warmup" + w));
                if (compare != null && compare.perType()) {
                    progress("warm-up " + (w + 1), "compare " + c.type(), runCompare(compare, c, "warmup" + w));
                }
            }
            if (compare != null && !compare.perType()) {
                progress("warm-up " + (w + 1), "compare", runCompare(compare, null, "warmup" + w));
            }
        }
        for (int r = 0; r < options.reps(); r++) {
            String rep = "rep " + (r + 1) + "/" + options.reps();
            for (Configuration c : configs) {
                Sample s = runSdj(c, "rep" + r);
                progress(rep, c.label(), s);
                table.addSdj(c, s);
                if (compare != null && compare.perType()) {
                    Sample cs = runCompare(compare, c, "rep" + r);
                    progress(rep, "compare " + c.type(), cs);
                    table.addCompare(c, cs);
                }
            }
            if (compare != null && !compare.perType()) {
                Sample cs = runCompare(compare, null, "rep" + r);
                progress(rep, "compare", cs);
                table.addCompare(null, cs);
            }
        }
        return table;
    }

    /** One sdj run in its own JVM: the child's figures plus the process wall time seen from here. */
    Sample runSdj(Configuration c, String tag) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        cmd.addAll(options.jvmArgs());
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=" + (options.verbose() ? "info" : "warn"));
        cmd.addAll(List.of("-cp", classPath(), SdjRun.class.getName()));
        cmd.addAll(List.of("--model", options.model().toAbsolutePath().toString(),
                "--tokenizer", options.tokenizer().toAbsolutePath().toString(),
                "--backend", c.backend(), "--type", c.type(),
                "--threads", Integer.toString(options.threads()),
                "--width", Integer.toString(options.width()), "--height", Integer.toString(options.height()),
                "--steps", Integer.toString(options.steps()), "--sampler", options.sampler(),
                "--cfg", Float.toString(options.cfg()), "--seed", Long.toString(options.seed()),
                "--prompt", options.prompt()));
        String name = "sdj-" + c.type() + "-" + c.backend() + "-" + tag;
        MeasuredProcess p = MeasuredProcess.run(cmd, false, options.verbose(), logDir, name);
        if (p.exitCode() != 0) {
            throw new SdjException("the sdj run for " + c.label() + " failed (exit " + p.exitCode() + "):\n"
                    + p.tail(30));
        }
        Sample s = p.stdout().stream().filter(Sample::isResultLine).reduce((a, b) -> b).map(Sample::parseLine)
                .orElseThrow(() -> new SdjException("the sdj run for " + c.label() + " printed no result line; see "
                        + p.stdoutLog()));
        return s.with(Metric.PROCESS, p.wallSeconds());
    }

    /** One run of the compare command under GNU time: process wall and peak RSS. */
    Sample runCompare(CompareCommand compare, Configuration c, String tag) {
        String line = compare.expand(options, c);
        String name = "compare-" + (c == null ? "" : c.type() + "-") + tag;
        MeasuredProcess p = MeasuredProcess.run(List.of("/bin/sh", "-c", line), true, options.verbose(), logDir, name);
        if (p.exitCode() != 0) {
            throw new SdjException("--compare command failed (exit " + p.exitCode() + "): " + line + "\n" + p.tail(30));
        }
        return new Sample(java.util.Map.of(Metric.PROCESS, p.wallSeconds(), Metric.RSS, p.peakRssMiB()));
    }

    private static void progress(String rep, String what, Sample s) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "sdj-bench: %s %s: process %.1f s", rep, what,
                s.get(Metric.PROCESS)));
        if (!Double.isNaN(s.get(Metric.STEP))) {
            b.append(String.format(Locale.ROOT, ", load %.1f s, %.2f s/step", s.get(Metric.LOAD), s.get(Metric.STEP)));
        }
        if (!Double.isNaN(s.get(Metric.RSS))) {
            b.append(String.format(Locale.ROOT, ", peak RSS %.0f MiB", s.get(Metric.RSS)));
        }
        System.err.println(b);
    }

    private static String classPath() {
        String cp = System.getProperty("java.class.path");
        List<String> abs = new ArrayList<>();
        for (String p : cp.split(java.io.File.pathSeparator)) {
            if (!p.isEmpty()) {
                abs.add(Path.of(p).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, abs);
    }

    static String title(EndToEndOptions o) {
        return String.format(Locale.ROOT, """
                sdj end-to-end benchmark: %dx%d, %d steps, %s, cfg %s, seed %d, %d thread(s), %d rep(s), %d CPU(s)
                model %s
                medians over the repetitions; ratios divide medians of this run (below 1.00x: less time or memory)
                %s""", o.width(), o.height(), o.steps(), o.sampler(), trim(o.cfg()), o.seed(), o.threads(), o.reps(),
                Runtime.getRuntime().availableProcessors(), o.model(),
                o.compare() == null ? "" : "compare: " + o.compare() + "\n");
    }

    private static String trim(float f) {
        return f == Math.rint(f) ? Long.toString((long) f) : Float.toString(f);
    }
}
