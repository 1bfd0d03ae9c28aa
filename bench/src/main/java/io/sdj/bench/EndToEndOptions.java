package io.sdj.bench;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.BlasUse;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.SamplerKind;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of one end-to-end benchmark run, parsed from {@code --name value} (or {@code --name=value}) arguments.
 *
 * @param model      the SD 1.x checkpoint
 * @param tokenizer  CLIP merges.txt, or a folder holding it
 * @param backends   backends to measure (each one a configuration axis)
 * @param threads    CPU threads (≤ 0: all cores)
 * @param types      weight types to measure, as sd.cpp spells them; {@link #FILE_TYPE} keeps the file's types
 * @param width      image width in pixels
 * @param height     image height in pixels
 * @param steps      sampling steps
 * @param sampler    sampler name (sd.cpp's spelling)
 * @param cfg        classifier-free guidance scale
 * @param seed       generation seed
 * @param reps       measured repetitions of every configuration
 * @param warmup     unmeasured runs of every configuration before the measured ones
 * @param prompt     the prompt
 * @param compare    a shell command for another implementation of the same case, or null
 * @param java       the launcher that starts each measured sdj JVM, or null to find {@code native/bin/java}
 * @param jvmArgs    extra arguments for each measured sdj JVM
 * @param verbose    show the children's logging
 */
public record EndToEndOptions(Path model, Path tokenizer, List<String> backends, int threads, List<String> types,
                              int width, int height, int steps, String sampler, float cfg, long seed, int reps,
                              int warmup, String prompt, String compare, Path java, List<String> jvmArgs,
                              boolean verbose) {

    /** Default checkpoint, relative to the repository root ({@code make model} writes it). */
    public static final String DEFAULT_MODEL = "models/cache/sd15_random_seed1.safetensors";
    /** Default tokenizer, relative to the repository root. */
    public static final String DEFAULT_TOKENIZER = "../shared/clip/merges.txt";
    /** The --type value that keeps the checkpoint's own weight types. */
    public static final String FILE_TYPE = "file";

    private static final List<String> FLAGS = List.of("verbose", "help");
    private static final List<String> VALUED = List.of("model", "tokenizer", "backend", "threads", "type", "width",
            "height", "steps", "sampler", "cfg", "seed", "reps", "warmup", "prompt", "compare", "java", "jvm-args");

    public EndToEndOptions {
        backends = List.copyOf(backends);
        types = List.copyOf(types);
        jvmArgs = List.copyOf(jvmArgs);
        if (backends.isEmpty()) {
            throw new InvalidParameterException("backend", "no backend given");
        }
        if (types.isEmpty()) {
            throw new InvalidParameterException("type", "no weight type given");
        }
        for (String t : types) {
            weightType(t);
        }
        SamplerKind.fromName(sampler);
        positive("width", width);
        positive("height", height);
        positive("steps", steps);
        positive("reps", reps);
        if (warmup < 0) {
            throw new InvalidParameterException("warmup", "must be 0 or more, got " + warmup);
        }
        if (width % 8 != 0 || height % 8 != 0) {
            throw new InvalidParameterException("width/height", "must be multiples of 8, got " + width + "x" + height);
        }
        if (!(cfg > 0)) {
            throw new InvalidParameterException("cfg", "must be positive, got " + cfg);
        }
        if (prompt == null) {
            throw new InvalidParameterException("prompt", "no prompt given");
        }
        if (compare != null && compare.isBlank()) {
            throw new InvalidParameterException("compare", "empty command");
        }
    }

    /** Parses the command line; unknown options and malformed values raise {@link InvalidParameterException}. */
    public static EndToEndOptions parse(String... args) {
        Map<String, String> v = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new InvalidParameterException(a, "unexpected argument; options are --name value (see --help)");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (FLAGS.contains(name)) {
                if (value != null) {
                    throw new InvalidParameterException(name, "takes no value");
                }
                v.put(name, "true");
                continue;
            }
            if (!VALUED.contains(name)) {
                throw new InvalidParameterException(a, "unknown option; known: --" + String.join(", --", VALUED)
                        + ", --" + String.join(", --", FLAGS));
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new InvalidParameterException(name, "needs a value");
                }
                value = args[++i];
            }
            v.put(name, value);
        }
        if (v.containsKey("help")) {
            throw new HelpRequested();
        }
        String java = v.get("java");
        String jvmArgs = v.getOrDefault("jvm-args", "").trim();
        return new EndToEndOptions(
                Path.of(v.getOrDefault("model", DEFAULT_MODEL)),
                Path.of(v.getOrDefault("tokenizer", DEFAULT_TOKENIZER)),
                list(v.getOrDefault("backend", "cpu")),
                integer(v, "threads", 2),
                list(v.getOrDefault("type", "f16,q4_0")),
                integer(v, "width", 256),
                integer(v, "height", 256),
                integer(v, "steps", 4),
                v.getOrDefault("sampler", "euler_a"),
                number(v, "cfg", 7f),
                longNumber(v, "seed", 42L),
                integer(v, "reps", 3),
                integer(v, "warmup", 0),
                v.getOrDefault("prompt", "a lovely cat"),
                v.get("compare"),
                java == null ? null : Path.of(java),
                jvmArgs.isEmpty() ? List.of() : Arrays.asList(jvmArgs.split("\\s+")),
                v.containsKey("verbose"));
    }

    /** The weight type for a --type entry: null keeps the file's types. */
    public static GgmlType weightType(String entry) {
        String name = withoutBlasSuffix(entry);
        int plus = name.indexOf(CONV_SUFFIX);
        String type = plus < 0 ? name : name.substring(0, plus);
        diffusionConvType(name);
        return type.equalsIgnoreCase(FILE_TYPE) ? null : GgmlType.fromName("type", type);
    }

    /** What follows a --type entry's weight type to set sdj's --diffusion-conv-type, e.g. {@code q4_0+conv=q4_0}. */
    public static final String CONV_SUFFIX = "+conv=";

    /** What ends a --type entry whose runs keep the CPU's matrix products off BLAS (sdj's --no-blas). */
    public static final String NO_BLAS_SUFFIX = "+noblas";

    /** What ends a --type entry whose runs hand quantized graphs to BLAS too (sdj's --blas-quantized). */
    public static final String BLAS_ALL_SUFFIX = "+blasall";

    /**
     * Which graphs use BLAS for a --type entry: OFF for {@code +noblas}, ALL for {@code +blasall}, else sdj's default
     * ({@link BlasUse#byDefault()}, which the system property {@code sdj.blas} sets, as in {@code bench/ab.sh}).
     */
    public static BlasUse blas(String entry) {
        String e = entry.toLowerCase(Locale.ROOT);
        return e.endsWith(NO_BLAS_SUFFIX) ? BlasUse.OFF : e.endsWith(BLAS_ALL_SUFFIX) ? BlasUse.ALL : BlasUse.byDefault();
    }

    private static String withoutBlasSuffix(String entry) {
        String e = entry.toLowerCase(Locale.ROOT);
        for (String suffix : new String[]{NO_BLAS_SUFFIX, BLAS_ALL_SUFFIX}) {
            if (e.endsWith(suffix)) {
                return entry.substring(0, entry.length() - suffix.length());
            }
        }
        return entry;
    }

    /** The U-Net kernels' type of a --type entry ({@code TYPE+conv=CONV}), or null (F16, sd.cpp's) without one. */
    public static GgmlType diffusionConvType(String entry) {
        String name = withoutBlasSuffix(entry);
        int plus = name.indexOf(CONV_SUFFIX);
        return plus < 0 ? null : GgmlType.fromName("type", name.substring(plus + CONV_SUFFIX.length()));
    }

    /** Every (type, backend) pair, types outermost, in the order given; the first one is the baseline. */
    public List<Configuration> configurations() {
        List<Configuration> out = new ArrayList<>();
        for (String t : types) {
            for (String b : backends) {
                out.add(new Configuration(t.toLowerCase(Locale.ROOT), b.toLowerCase(Locale.ROOT)));
            }
        }
        return out;
    }

    /** The usage text. */
    public static String usage() {
        return """
                usage: EndToEnd [options]
                  --model PATH        checkpoint of any family: SD 1.x, SD 2.x, SDXL; .safetensors, .gguf, .ckpt
                                      (default %s; create it with `make model`)
                  --tokenizer PATH    CLIP merges.txt or a folder with it (default %s)
                  --backend LIST      backends, comma-separated (default cpu)
                  --threads N         CPU threads, <= 0 for all cores (default 2)
                  --type LIST         weight types, comma-separated: f16, q8_0, q4_0, ..., or 'file' (default f16,q4_0);
                                      TYPE+conv=CONV also sets sdj's --diffusion-conv-type CONV (e.g. q4_0+conv=q4_0);
                                      a trailing +noblas runs it with --no-blas (e.g. f16+noblas), +blasall
                                      with --blas-quantized (e.g. q4_0+blasall)
                  --width N --height N  image size (default 256x256)
                  --steps N           sampling steps (default 4)
                  --sampler NAME      sampler, sd.cpp's names (default euler_a)
                  --cfg X             guidance scale (default 7)
                  --seed N            seed (default 42)
                  --prompt TEXT       prompt (default 'a lovely cat')
                  --reps N            measured repetitions per configuration (default 3)
                  --warmup N          unmeasured runs per configuration first (default 0)
                  --compare CMD       shell command of another implementation for the same case, run after each sdj
                                      run; {type} {model} {prompt} {width} {height} {steps} {sampler} {cfg} {seed}
                                      {threads} are substituted ({type}: run once per configuration)
                  --java PATH         launcher for the measured JVMs (default: native/bin/java of this checkout)
                  --jvm-args "ARGS"   extra JVM arguments for the measured JVMs
                  --verbose           show the measured JVMs' logging
                """.formatted(DEFAULT_MODEL, DEFAULT_TOKENIZER);
    }

    private static List<String> list(String s) {
        List<String> out = new ArrayList<>();
        for (String p : s.split(",")) {
            if (!p.isBlank()) {
                out.add(p.trim());
            }
        }
        return out;
    }

    private static int integer(Map<String, String> v, String name, int dflt) {
        String s = v.get(name);
        if (s == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(name, "expected an integer, got '" + s + "'");
        }
    }

    private static long longNumber(Map<String, String> v, String name, long dflt) {
        String s = v.get(name);
        if (s == null) {
            return dflt;
        }
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(name, "expected an integer, got '" + s + "'");
        }
    }

    private static float number(Map<String, String> v, String name, float dflt) {
        String s = v.get(name);
        if (s == null) {
            return dflt;
        }
        try {
            return Float.parseFloat(s.trim());
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(name, "expected a number, got '" + s + "'");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new InvalidParameterException(name, "must be positive, got " + value);
        }
    }

    /** Thrown by {@link #parse} for {@code --help}. */
    public static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super("help requested", null, false, false);
        }
    }
}
