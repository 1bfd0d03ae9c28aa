package io.sdj.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What the ggml headers said when the bindings were generated: written by {@code bindings/generate.sh} next to the
 * generated classes ({@value #RESOURCE} in the jar) and compared with the library that is loaded
 * ({@link GgmlAbiCheck}).
 *
 * @param version    ggml's version as its package files gave it ({@code ggml.pc} or the CMake version file), or
 *                   {@code unknown}
 * @param headers    the include folder the bindings were generated from
 * @param source     how that ggml was provided (runtime.env's mode: prefix, system, built)
 * @param constants  integer constants from the headers: {@code GGML_TYPE_*}, {@code GGML_MAX_*}
 * @param origin     where this record was read from (for messages)
 */
public record GgmlExpectations(String version, String headers, String source, Map<String, Integer> constants,
                               String origin) {
    /** Class-path resource the generator writes. */
    public static final String RESOURCE = "io/sdj/ggml/ggml-expectations.properties";
    /** System property naming a different expectations file (diagnostics and tests). */
    public static final String OVERRIDE_PROPERTY = "sdj.ggml.expectations";

    public GgmlExpectations {
        constants = Map.copyOf(constants);
    }

    /** The integer constant {@code name}, or {@code null} when the headers did not define it. */
    public Integer constant(String name) {
        return constants.get(name);
    }

    /** Reads the record: the file named by {@value #OVERRIDE_PROPERTY}, else the class-path resource. */
    static GgmlExpectations load() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        try {
            if (override != null && !override.isBlank()) {
                Path p = Path.of(override);
                try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                    return parse(r, p.toString());
                }
            }
            try (InputStream in = GgmlExpectations.class.getResourceAsStream("/" + RESOURCE)) {
                if (in == null) {
                    throw new RuntimeUnavailableException("sdj's ggml bindings carry no record of the headers they "
                            + "were generated from (" + RESOURCE + " is missing from the class path), so the loaded "
                            + "ggml cannot be checked against them. Regenerate the bindings with 'make bindings build'.");
                }
                return parse(new java.io.InputStreamReader(in, StandardCharsets.UTF_8), RESOURCE);
            }
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot read the ggml header record "
                    + (override != null ? override : RESOURCE) + ": " + e.getMessage());
        }
    }

    static GgmlExpectations parse(Reader reader, String origin) throws IOException {
        Properties p = new Properties();
        p.load(reader);
        Map<String, Integer> constants = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("GGML_")) {
                String v = p.getProperty(key).trim();
                try {
                    constants.put(key, Integer.decode(v));
                } catch (NumberFormatException e) {
                    throw new RuntimeUnavailableException("the ggml header record " + origin + " has a non-integer "
                            + "value for " + key + ": '" + v + "'. Regenerate the bindings with 'make bindings build'.");
                }
            }
        }
        return new GgmlExpectations(p.getProperty("ggml.version", "unknown").trim(),
                p.getProperty("ggml.headers", "?").trim(), p.getProperty("ggml.source", "?").trim(), constants, origin);
    }
}
