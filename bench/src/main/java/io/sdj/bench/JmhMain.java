package io.sdj.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of the benchmark jar for JMH: JMH's own command line, except that forks start through the sdj
 * launcher ({@code native/bin/java}, see {@link Launcher}) unless {@code -jvm} is given.
 *
 * <pre>
 * native/bin/java -jar bench/target/sdj-bench.jar TokenizerBench -f 1 -wi 3 -i 5
 * </pre>
 */
public final class JmhMain {
    private JmhMain() {
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(withLauncher(args));
    }

    /** {@code args} with {@code -jvm LAUNCHER} added when absent (and when not just listing or asking for help). */
    static String[] withLauncher(String[] args) {
        List<String> a = Arrays.asList(args);
        if (a.contains("-jvm") || a.contains("-h") || a.contains("-l") || a.contains("-lp")) {
            return args;
        }
        List<String> out = new ArrayList<>(List.of("-jvm", Launcher.find(null).toString()));
        out.addAll(a);
        return out.toArray(String[]::new);
    }
}
