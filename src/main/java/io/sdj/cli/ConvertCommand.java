package io.sdj.cli;

import io.sdj.SdjException;
import io.sdj.convert.GgufConverter;
import io.sdj.family.TensorTypeRule;
import io.sdj.model.TensorSource;
import io.sdj.model.TensorSources;
import io.sdj.runtime.GgmlType;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * sd-cli's convert mode: {@code sdj -M convert -m IN -o OUT.gguf [--type T]} writes the model as GGUF with
 * {@link GgufConverter}, as {@code sd-cli -M convert} does (with {@code --tensor-type-rules} as sd-cli takes it). IN may be safetensors, GGUF or a PyTorch checkpoint
 * (judged by content). Without -o the output is {@code output.gguf}; without --type the file's types are kept.
 */
public final class ConvertCommand {
    /** The convert mode's value of -M/--mode. */
    public static final String MODE = "convert";
    /** Where the GGUF goes without -o (sd-cli's default output name, with the GGUF extension). */
    public static final String DEFAULT_OUTPUT = "output.gguf";

    /** The parsed convert command line. */
    public record Options(Path model, Path output, GgmlType type, List<TensorTypeRule> rules, boolean verbose) {
    }

    private ConvertCommand() {
    }

    /** True when the command line asks for convert mode (-M convert or --mode convert). */
    public static boolean requested(String... args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if ((args[i].equals("-M") || args[i].equals("--mode")) && args[i + 1].equals(MODE)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses a convert command line.
     *
     * @throws UsageException for a flag convert mode does not take, a missing value, or a missing -m
     */
    public static Options parse(String... args) {
        Path model = null;
        Path output = Path.of(DEFAULT_OUTPUT);
        GgmlType type = null;
        List<TensorTypeRule> rules = List.of();
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-v", "--verbose" -> verbose = true;
                case "-M", "--mode", "-m", "--model", "-o", "--output", "--type", "--tensor-type-rules", "-t", "--threads" -> {
                    if (++i >= args.length) {
                        throw new UsageException(a + ": missing value");
                    }
                    String v = args[i];
                    switch (a) {
                        case "-M", "--mode" -> {
                            if (!v.equals(MODE)) {
                                throw new UsageException("--mode: given twice, as convert and " + v);
                            }
                        }
                        case "-m", "--model" -> model = path(a, v);
                        case "-o", "--output" -> output = path(a, v);
                        case "--type" -> type = weightType(v);
                        case "--tensor-type-rules" -> rules = typeRules(v);
                        default -> { } // --threads: conversion runs on one thread
                    }
                }
                default -> throw new UsageException("convert mode takes -m, -o, --type, --tensor-type-rules and -v; not " + a);
            }
        }
        if (model == null) {
            throw new UsageException("the following argument is required: -m/--model");
        }
        return new Options(model, output, type, rules, verbose);
    }

    private static Path path(String flag, String v) {
        if (v.isEmpty()) {
            throw new UsageException(flag + ": expected a path, got an empty string");
        }
        try {
            return Path.of(v);
        } catch (InvalidPathException e) {
            throw new UsageException(flag + ": not a valid path: '" + v + "'");
        }
    }

    private static List<TensorTypeRule> typeRules(String v) {
        try {
            return TensorTypeRule.parse(v);
        } catch (SdjException e) {
            throw new UsageException("--" + e.getMessage());
        }
    }

    private static GgmlType weightType(String name) {
        List<GgmlType> allowed = CliOptions.WEIGHT_TYPES;
        GgmlType t;
        try {
            t = GgmlType.fromName("--type", name);
        } catch (SdjException e) {
            t = null;
        }
        if (t == null || !allowed.contains(t)) {
            throw new UsageException("--type: unknown weight type '" + name + "'; expected one of "
                    + allowed.stream().map(GgmlType::cliName).collect(Collectors.joining(", ")));
        }
        return t;
    }

    /** Runs the conversion; the summary line goes to {@code out}. */
    static void run(Options o, PrintStream out) {
        boolean folder = io.sdj.model.DiffusersFolder.looksLike(o.model());
        if (!folder && !Files.isRegularFile(o.model())) {
            throw new SdjException(Files.exists(o.model()) ? "model is not a file or a diffusers folder: " + o.model()
                    : "model file not found: " + o.model());
        }
        if (o.output().toAbsolutePath().normalize().equals(o.model().toAbsolutePath().normalize())) {
            throw new UsageException("--output: must not be the input file");
        }
        long start = System.nanoTime();
        GgufConverter.Result r;
        try (TensorSource src = folder ? io.sdj.model.DiffusersFolder.open(o.model()) : TensorSources.open(o.model())) {
            r = GgufConverter.convert(src, o.output(), o.type(), o.rules());
        }
        out.printf("converted %s to %s: %d tensors %s, %d bytes, %.2fs%n", o.model(), r.file(), r.tensors(), r.types(),
                r.bytes(), (System.nanoTime() - start) / 1e9);
        out.flush();
    }
}
