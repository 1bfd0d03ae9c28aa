package io.sdj.runtime;

import io.sdj.ggml.ggml_abort_callback_t;
import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_log_callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Finds and loads the native ggml libraries once per JVM, checks them against the headers the bindings were
 * generated from ({@link GgmlAbiCheck}), loads ggml's backend plugins and routes ggml's log to SLF4J.
 *
 * <p>Where it looks, in order, is {@link RuntimeLocator}'s: the explicit setting ({@code sdj.ggml.path} /
 * {@code SDJ_GGML_PATH}), the per-user runtime ({@code sdj runtime install}), the project prefix of the checkout the
 * classes came from, then the system. None of it depends on the working directory.
 */
public final class GgmlLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(GgmlLibrary.class);
    private static final Logger GGML_LOG = LoggerFactory.getLogger("ggml");
    private static final String[] LIBS = {"libggml-base.so", "libggml.so"};

    /** Where the runtime was loaded from. */
    public record Location(Path libraryDir, Path backendDir, String foundBy) {
    }

    private static volatile Location loaded;
    private static BackendPlugins plugins;
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

    /**
     * Loads the runtime if needed and registers ggml's CPU backend (the variant for this CPU) and its BLAS backend,
     * but no GPU backend: a CPU run never starts a GPU driver.
     */
    public static Location loadCpuBackends() {
        return loadWithPlugins(BackendPlugins::loadCpu);
    }

    /**
     * Loads the runtime if needed and registers the backend plugins that can offer a hardware device: all of them,
     * except Vulkan when the only Vulkan driver is Mesa's lavapipe ({@link #vulkanIsSoftwareOnly}), which is software
     * and so never the best device.
     */
    public static Location loadBackendsForBest() {
        Set<String> skipped = vulkanIsSoftwareOnly(System.getenv()) ? Set.of("vulkan") : Set.of();
        return loadWithPlugins(p -> p.loadAllBut(skipped));
    }

    /**
     * True when the Vulkan loader is told to use lavapipe alone: {@code VK_DRIVER_FILES} (else the older
     * {@code VK_ICD_FILENAMES}) lists driver manifests and every one is lavapipe's ({@code lvp_icd*.json}, or the
     * runtime's {@code lavapipe_icd.json}, which the launcher sets when it knows no other driver).
     */
    static boolean vulkanIsSoftwareOnly(Map<String, String> env) {
        String files = env.getOrDefault("VK_DRIVER_FILES", "");
        if (files.isBlank()) {
            files = env.getOrDefault("VK_ICD_FILENAMES", "");
        }
        if (files.isBlank()) {
            return false;
        }
        boolean any = false;
        for (String f : files.split(":")) {
            String name = f.trim().substring(f.trim().lastIndexOf('/') + 1);
            if (name.isEmpty()) {
                continue;
            }
            any = true;
            if (!(name.startsWith("lvp_icd") || name.startsWith("lavapipe_icd"))) {
                return false;
            }
        }
        return any;
    }

    /** Loads the runtime if needed and registers every backend plugin it has (Vulkan, CUDA, ... and the CPU's). */
    public static Location loadAllBackends() {
        return loadWithPlugins(BackendPlugins::loadAll);
    }

    /** {@link #load()}, then {@code stage} on the plugin folder (none: ggml registered everything at load). */
    private static Location loadWithPlugins(Consumer<BackendPlugins> stage) {
        Location l = load();
        BackendPlugins p = plugins;
        if (p != null) {
            stage.accept(p);
        }
        return l;
    }

    private static Location doLoad() {
        List<String> tried = new ArrayList<>();
        String explicitBackends = System.getProperty("sdj.ggml.backends", System.getenv("SDJ_GGML_BACKENDS"));
        for (RuntimeLocator.Candidate c : RuntimeLocator.candidates(RuntimeLocator.fromJvm())) {
            Path dir = c.libraryDir();
            String problem = tryLoad(dir);
            if (problem == null) {
                // before any backend runs: a ggml with other enum values or struct sizes would corrupt memory
                GgmlAbiCheck.verify(dir, c.foundBy());
                Path backends = RuntimeLocator.backendDir(c, explicitBackends);
                installLogging();
                if (backends != null) {
                    plugins = new BackendPlugins(backends); // registered on demand: loadCpuBackends, loadAllBackends
                } else {
                    ggml_h.ggml_backend_load_all();
                }
                Location loc = new Location(dir, backends, c.foundBy());
                LOG.debug("ggml loaded from {} ({}), backends from {}", dir, c.foundBy(), backends);
                return loc;
            }
            tried.add(dir + " [" + c.foundBy() + "]: " + problem);
        }
        StringBuilder msg = new StringBuilder("the ggml runtime could not be loaded. Looked in:\n");
        tried.forEach(t -> msg.append("  - ").append(t).append('\n'));
        msg.append("Run 'sdj runtime install' to provision it for this user into ").append(UserRuntime.home())
                .append(" (or 'make runtime' in a checkout, into native/prefix), or set SDJ_GGML_PATH (or "
                        + "-Dsdj.ggml.path) to a folder holding libggml.so.0 and libggml-base.so.0.");
        if (tried.stream().anyMatch(t -> t.contains("GLIBC"))) {
            msg.append("\nThe libraries need a newer glibc than this JVM runs on: start java through the runtime's "
                    + "launcher, ").append(UserRuntime.launcher()).append(" or a checkout's native/bin/java (bin/sdj "
                    + "does), which use the prefix's own loader.");
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
