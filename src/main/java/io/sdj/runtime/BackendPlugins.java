package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * ggml's backend plugins in a folder ({@code libggml-<name>.so}, and per-CPU variants {@code libggml-cpu-<v>.so}),
 * registered in stages so that a CPU-only run never starts a GPU driver: {@link #loadCpu()} registers the CPU
 * backend and its BLAS partner, {@link #loadAll()} the rest (Vulkan, CUDA, ...) when a caller asks for another
 * backend or for the device list, and {@link #loadAllBut} all but the backends that cannot offer what "best"
 * looks for.
 *
 * <p>Each stage picks a plugin the way ggml's own {@code ggml_backend_load_all_from_path} does: among the files of a
 * backend name, the one whose {@code ggml_backend_score()} is highest (0 means "cannot run on this machine"); with
 * no scored file, the plain {@code libggml-<name>.so}. Loading the Vulkan backend starts the Vulkan loader and its
 * drivers (Mesa's lavapipe brings LLVM): about 64 MiB of resident memory that a CPU run does not need.
 */
final class BackendPlugins {
    private static final Logger LOG = LoggerFactory.getLogger(BackendPlugins.class);
    private static final List<String> CPU_STAGE = List.of("blas", "cpu");
    /** ggml's registration order for the names it knows; other names follow in alphabetical order. */
    private static final List<String> GGML_ORDER = List.of("blas", "zdnn", "cann", "cuda", "hip", "metal", "rpc",
            "sycl", "vulkan", "opencl", "hexagon", "musa", "cpu");
    private static final String PREFIX = "libggml-";
    private static final String SUFFIX = ".so";

    private final Path dir;
    private final Set<String> registered = new HashSet<>();
    private boolean extraLoaded;

    BackendPlugins(Path dir) {
        this.dir = dir;
    }

    /** Registers the CPU backend (the best variant for this CPU) and ggml's BLAS backend, once. */
    synchronized void loadCpu() {
        loadCpu(files());
    }

    private void loadCpu(Map<String, List<Path>> files) {
        for (String name : CPU_STAGE) {
            loadOnce(name, files);
        }
    }

    /** Registers every backend in the folder (the CPU stage first, if not yet), once. */
    synchronized void loadAll() {
        loadAllBut(Set.of());
    }

    /**
     * Registers every backend in the folder but the {@code skipped} names (the CPU stage first), each once; a later
     * call can still register a skipped one.
     */
    synchronized void loadAllBut(Set<String> skipped) {
        Map<String, List<Path>> files = files();
        loadCpu(files);
        for (String name : names(files)) {
            if (!skipped.contains(name)) {
                loadOnce(name, files);
            }
        }
        String extra = System.getenv("GGML_BACKEND_PATH"); // ggml's load_all honours it too
        if (!extraLoaded && extra != null && !extra.isBlank()) {
            extraLoaded = true;
            register(Path.of(extra));
        }
    }

    private void loadOnce(String name, Map<String, List<Path>> files) {
        if (registered.add(name)) {
            load(name, files.getOrDefault(name, List.of()));
        }
    }

    /** The backend names present in the folder, in ggml's registration order. */
    List<String> names() {
        return names(files());
    }

    private static List<String> names(Map<String, List<Path>> byName) {
        List<String> names = new ArrayList<>(byName.keySet());
        names.sort(Comparator.comparingInt((String n) -> GGML_ORDER.contains(n) ? GGML_ORDER.indexOf(n)
                : GGML_ORDER.size()).thenComparing(Comparator.naturalOrder()));
        return names;
    }

    /** Plugin files by backend name: {@code libggml-cpu-zen4.so} → cpu; {@code libggml-vulkan.so} → vulkan. */
    Map<String, List<Path>> files() {
        Map<String, List<Path>> byName = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isRegularFile).forEach(p -> {
                String f = p.getFileName().toString();
                if (f.startsWith(PREFIX) && f.endsWith(SUFFIX) && f.length() > PREFIX.length() + SUFFIX.length()) {
                    String stem = f.substring(PREFIX.length(), f.length() - SUFFIX.length());
                    String name = stem.contains("-") ? stem.substring(0, stem.indexOf('-')) : stem;
                    if (!name.equals("base")) {
                        byName.computeIfAbsent(name, k -> new ArrayList<>()).add(p);
                    }
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot list ggml backend plugins in {}: {}", dir, e.toString());
        }
        byName.values().forEach(l -> l.sort(Comparator.naturalOrder()));
        return byName;
    }

    /** Registers the best-scoring of a backend's plugin files, else its plain {@code libggml-<name>.so}. */
    private void load(String name, List<Path> candidates) {
        Path plain = dir.resolve(PREFIX + name + SUFFIX);
        Map<String, Integer> scores = new LinkedHashMap<>();
        Path best = null;
        int bestScore = 0;
        for (Path p : candidates) {
            if (!p.equals(plain)) {
                Optional<Integer> s = score(p);
                if (s.isPresent()) {
                    scores.put(p.getFileName().toString(), s.get());
                    if (s.get() > bestScore) {
                        bestScore = s.get();
                        best = p;
                    }
                }
            }
        }
        if (best != null) {
            LOG.debug("{} backend: {} scores {} on this machine (scores: {})", name, best.getFileName(), bestScore,
                    scores);
            register(best);
        } else if (Files.isRegularFile(plain)) {
            // a single build for this backend (no scored variants), or none of them runs here
            register(plain);
        }
    }

    /** {@code ggml_backend_score()} of a variant: the library is opened for the call and closed after it. */
    private static Optional<Integer> score(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lib = SymbolLookup.libraryLookup(file, arena);
            Optional<MemorySegment> fn = lib.find("ggml_backend_score");
            if (fn.isEmpty()) {
                return Optional.empty();
            }
            MethodHandle h = Linker.nativeLinker().downcallHandle(fn.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            return Optional.of((int) h.invokeExact());
        } catch (IllegalArgumentException e) { // dlopen failed: a missing dependency, another architecture
            LOG.debug("cannot open ggml backend plugin {}: {}", file, e.getMessage());
            return Optional.empty();
        } catch (Throwable t) {
            LOG.debug("cannot score ggml backend plugin {}: {}", file, t.toString());
            return Optional.empty();
        }
    }

    private static void register(Path file) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = ggml_h.ggml_backend_load(a.allocateFrom(file.toString()));
            if (reg.equals(MemorySegment.NULL)) {
                LOG.debug("ggml did not register {}", file);
            }
        }
    }
}
