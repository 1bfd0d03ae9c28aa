package io.sdj.runtime;

import io.sdj.ggml.ggml_abort_callback_t;
import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_log_callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds and loads the native ggml libraries once per JVM, loads ggml's backend plugins and routes ggml's log to
 * SLF4J.
 *
 * <p>Search order: the system property {@code sdj.ggml.path} or the environment variable {@code SDJ_GGML_PATH} (a
 * folder holding libggml.so.0 and libggml-base.so.0), then the project prefix ({@code native/prefix/runtime.env} in
 * the working folder or a parent of it), then the system library folders. Backend plugins are loaded from
 * {@code sdj.ggml.backends} / {@code SDJ_GGML_BACKENDS}, else from {@code <lib>/ggml/backends0} or the library
 * folder itself.
 */
public final class GgmlLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(GgmlLibrary.class);
    private static final Logger GGML_LOG = LoggerFactory.getLogger("ggml");
    private static final String[] LIBS = {"libggml-base.so", "libggml.so"};

    /** Where the runtime was loaded from. */
    public record Location(Path libraryDir, Path backendDir, String foundBy) {
    }

    private static volatile Location loaded;
    private static RuntimeUnavailableException failure;
    private static final StringBuilder pendingLine = new StringBuilder();
    private static int pendingLevel = 2;

    private GgmlLibrary() {
    }

    /** Loads the runtime if needed and returns where it came from. */
    public static Location load() {
        Location l = loaded;
        if (l != null) {
            return l;
        }
        synchronized (GgmlLibrary.class) {
            if (loaded != null) {
                return loaded;
            }
            if (failure != null) {
                throw failure;
            }
            try {
                loaded = doLoad();
                return loaded;
            } catch (RuntimeUnavailableException e) {
                failure = e;
                throw e;
            }
        }
    }

    private static Location doLoad() {
        List<String> tried = new ArrayList<>();
        Map<Path, String> candidates = new LinkedHashMap<>();
        String explicit = System.getProperty("sdj.ggml.path", System.getenv("SDJ_GGML_PATH"));
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            candidates.put(Files.isRegularFile(p) ? p.getParent() : p, "explicit setting (sdj.ggml.path / SDJ_GGML_PATH)");
        }
        Path prefixEnv = findPrefixEnv();
        Map<String, String> env = prefixEnv == null ? Map.of() : readEnv(prefixEnv);
        if (env.containsKey("libdir")) {
            candidates.putIfAbsent(Path.of(env.get("libdir")), "project prefix " + prefixEnv);
        }
        for (String d : systemDirs()) {
            candidates.putIfAbsent(Path.of(d), "system library folder");
        }
        for (Map.Entry<Path, String> c : candidates.entrySet()) {
            Path dir = c.getKey();
            String problem = tryLoad(dir);
            if (problem == null) {
                Path backends = backendDir(dir, env);
                installLogging();
                if (backends != null) {
                    try (Arena a = Arena.ofConfined()) {
                        ggml_h.ggml_backend_load_all_from_path(a.allocateFrom(backends.toString()));
                    }
                } else {
                    ggml_h.ggml_backend_load_all();
                }
                Location loc = new Location(dir, backends, c.getValue());
                LOG.debug("ggml loaded from {} ({}), backends from {}", dir, c.getValue(), backends);
                return loc;
            }
            tried.add(dir + " [" + c.getValue() + "]: " + problem);
        }
        StringBuilder msg = new StringBuilder("the ggml runtime could not be loaded. Looked in:\n");
        tried.forEach(t -> msg.append("  - ").append(t).append('\n'));
        msg.append("Run 'make runtime' to provision it into native/prefix, or set SDJ_GGML_PATH (or -Dsdj.ggml.path) "
                + "to a folder holding libggml.so.0 and libggml-base.so.0.");
        if (tried.stream().anyMatch(t -> t.contains("GLIBC"))) {
            msg.append("\nThe libraries need a newer glibc than this JVM runs on: start java through native/bin/java "
                    + "(or bin/sdj), which uses the prefix's own loader.");
        }
        throw new RuntimeUnavailableException(msg.toString());
    }

    private static String tryLoad(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "no such folder";
        }
        List<Path> files = new ArrayList<>();
        for (String lib : LIBS) {
            Path f = dir.resolve(lib + ".0");
            if (!Files.exists(f)) {
                f = dir.resolve(lib);
            }
            if (!Files.exists(f)) {
                return "no " + lib + ".0 there";
            }
            files.add(f);
        }
        for (Path f : files) {
            try {
                System.load(f.toAbsolutePath().toString());
            } catch (UnsatisfiedLinkError e) {
                return "cannot load " + f.getFileName() + ": " + e.getMessage();
            }
        }
        return null;
    }

    private static Path backendDir(Path libDir, Map<String, String> env) {
        String explicit = System.getProperty("sdj.ggml.backends", System.getenv("SDJ_GGML_BACKENDS"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        if (env.containsKey("backenddir") && Path.of(env.get("libdir")).equals(libDir)) {
            return Path.of(env.get("backenddir"));
        }
        Path sub = libDir.resolve("ggml/backends0");
        if (Files.isDirectory(sub)) {
            return sub;
        }
        try (var s = Files.list(libDir)) {
            if (s.anyMatch(p -> p.getFileName().toString().startsWith("libggml-cpu"))) {
                return libDir;
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static Path findPrefixEnv() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path env = dir.resolve("native/prefix/runtime.env");
            if (Files.isRegularFile(env)) {
                return env;
            }
            dir = dir.getParent();
        }
        return null;
    }

    static Map<String, String> readEnv(Path file) {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", file, e.toString());
        }
        return m;
    }

    private static List<String> systemDirs() {
        List<String> dirs = new ArrayList<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(List.of("/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/usr/lib"));
        return dirs;
    }

    // --- logging --------------------------------------------------------------------------------------------------

    private static void installLogging() {
        MemorySegment cb = ggml_log_callback.allocate(GgmlLibrary::onLog, Arena.global());
        ggml_h.ggml_log_set(cb, MemorySegment.NULL);
        MemorySegment abort = ggml_abort_callback_t.allocate(
                msg -> GGML_LOG.error("ggml aborts the process: {}", msg.reinterpret(4096).getString(0)),
                Arena.global());
        ggml_h.ggml_set_abort_callback(abort);
    }

    private static void onLog(int level, MemorySegment text, MemorySegment userData) {
        String s = text.reinterpret(Integer.MAX_VALUE).getString(0);
        synchronized (pendingLine) {
            if (level != 5) { // GGML_LOG_LEVEL_CONT continues the previous line
                pendingLevel = level;
            }
            pendingLine.append(s);
            int nl;
            while ((nl = pendingLine.indexOf("\n")) >= 0) {
                emit(pendingLevel, pendingLine.substring(0, nl));
                pendingLine.delete(0, nl + 1);
            }
        }
    }

    private static void emit(int level, String line) {
        if (line.isBlank()) {
            return;
        }
        switch (level) {
            case 4 -> GGML_LOG.error(line);
            case 3 -> GGML_LOG.warn(line);
            default -> GGML_LOG.debug(line); // ggml's INFO lines (device lists, ...) are debug detail here
        }
    }
}
