package io.sdj.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where to look for the ggml libraries, in order; nothing here depends on the working directory.
 * <ol>
 *   <li>the explicit setting: system property {@code sdj.ggml.path}, else environment variable {@code SDJ_GGML_PATH}
 *       (a folder holding libggml.so.0 and libggml-base.so.0, or one of those files);</li>
 *   <li>the per-user runtime that {@code sdj runtime install} provisions ({@link UserRuntime#home}:
 *       {@code $XDG_CACHE_HOME/sdj/runtime/<ggml version>/prefix/runtime.env});</li>
 *   <li>the project prefix of the checkout sdj's classes or jar were loaded from ({@code native/prefix/runtime.env} in
 *       that location or a parent of it);</li>
 *   <li>the system: {@code LD_LIBRARY_PATH}, then the usual library folders.</li>
 * </ol>
 * Backend plugins come from {@code sdj.ggml.backends} / {@code SDJ_GGML_BACKENDS}, else the runtime.env's
 * {@code backenddir} when that runtime's libdir is the one loaded, else {@code <lib>/ggml/backends0}, else the library
 * folder itself when it holds {@code libggml-cpu*}.
 */
final class RuntimeLocator {
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeLocator.class);
    private static final List<String> SYSTEM_DIRS = List.of("/usr/local/lib", "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib");

    /** One place to try, and the runtime.env that described it (empty for plain folders). */
    record Candidate(Path libraryDir, String foundBy, Map<String, String> env) {
    }

    /** The settings the search depends on (read from the JVM by {@link #fromJvm}; tests build their own). */
    record Inputs(String explicitPath, Path userRuntimeHome, Path codeLocation, String ldLibraryPath) {
    }

    private RuntimeLocator() {
    }

    static Inputs fromJvm() {
        return new Inputs(System.getProperty("sdj.ggml.path", System.getenv("SDJ_GGML_PATH")), UserRuntime.home(),
                codeLocation(), System.getenv("LD_LIBRARY_PATH"));
    }

    /** The candidates in search order, without duplicates (the first reason for a folder wins). */
    static List<Candidate> candidates(Inputs in) {
        Map<Path, Candidate> out = new LinkedHashMap<>();
        if (in.explicitPath() != null && !in.explicitPath().isBlank()) {
            Path p = Path.of(in.explicitPath()).toAbsolutePath();
            Path dir = Files.isRegularFile(p) ? p.getParent() : p;
            out.put(dir, new Candidate(dir, "explicit setting (sdj.ggml.path / SDJ_GGML_PATH)", Map.of()));
        }
        if (in.userRuntimeHome() != null) {
            addEnv(out, in.userRuntimeHome().resolve("prefix/runtime.env"), "per-user runtime");
        }
        Path projectEnv = findProjectEnv(in.codeLocation());
        if (projectEnv != null) {
            addEnv(out, projectEnv, "project prefix");
        }
        List<String> system = new ArrayList<>();
        if (in.ldLibraryPath() != null) {
            for (String d : in.ldLibraryPath().split(":")) {
                if (!d.isBlank()) {
                    system.add(d);
                }
            }
        }
        system.addAll(SYSTEM_DIRS);
        for (String d : system) {
            Path dir = Path.of(d);
            out.putIfAbsent(dir, new Candidate(dir, "system library folder", Map.of()));
        }
        return List.copyOf(out.values());
    }

    private static void addEnv(Map<Path, Candidate> out, Path envFile, String what) {
        if (!Files.isRegularFile(envFile)) {
            return;
        }
        Map<String, String> env = readEnv(envFile);
        String libdir = env.get("libdir");
        if (libdir == null || libdir.isBlank()) {
            LOG.warn("{} names no libdir; ignoring it", envFile);
            return;
        }
        Path dir = Path.of(libdir);
        out.putIfAbsent(dir, new Candidate(dir, what + " " + envFile, env));
    }

    /** {@code native/prefix/runtime.env} in the folder sdj was loaded from or one of its parents, or null. */
    static Path findProjectEnv(Path codeLocation) {
        Path dir = codeLocation == null ? null : codeLocation.toAbsolutePath();
        while (dir != null) {
            Path env = dir.resolve("native/prefix/runtime.env");
            if (Files.isRegularFile(env)) {
                return env;
            }
            dir = dir.getParent();
        }
        return null;
    }

    /** The jar or class folder this class came from, or null when the JVM does not say. */
    static Path codeLocation() {
        try {
            CodeSource cs = RuntimeLocator.class.getProtectionDomain().getCodeSource();
            return cs == null || cs.getLocation() == null ? null : Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /** Where the backend plugins of a runtime loaded from {@code libDir} are. */
    static Path backendDir(Candidate c, String explicit) {
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String fromEnv = c.env().get("backenddir");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        Path sub = c.libraryDir().resolve("ggml/backends0");
        if (Files.isDirectory(sub)) {
            return sub;
        }
        try (var s = Files.list(c.libraryDir())) {
            if (s.anyMatch(p -> p.getFileName().toString().startsWith("libggml-cpu"))) {
                return c.libraryDir();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    static Map<String, String> readEnv(Path file) {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", file, e.toString());
        }
        return m;
    }
}
