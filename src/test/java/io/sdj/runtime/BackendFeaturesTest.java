package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU backend reports the features of the variant ggml loaded, and they fit this machine's CPU. */
class BackendFeaturesTest {

    @Test
    void cpuFeaturesDescribeTheLoadedVariantAndFitThisCpu() throws IOException {
        Map<String, String> features = Backends.get("cpu").features();
        assertFalse(features.isEmpty(), "the CPU backend reports its features");
        assertThrows(UnsupportedOperationException.class, () -> features.put("X", "1"));
        String arch = System.getProperty("os.arch");
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!(arch.equals("amd64") || arch.equals("x86_64")) || !Files.isReadable(cpuinfo)) {
            return;
        }
        Set<String> flags = Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith("flags"))
                .findFirst().map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))
                        .collect(Collectors.toSet())).orElseThrow();
        // Every x86 variant ggml ships is built with SSE3 at least.
        assertEquals("1", features.get("SSE3"), features.toString());
        // A variant that uses an extension the CPU lacks could not have been loaded without SIGILL; ggml must have
        // chosen one whose every SIMD feature the CPU has (cpuinfo names: avx2, avx512f, f16c, fma, ...).
        Map<String, String> cpuinfoName = Map.of("AVX", "avx", "AVX2", "avx2", "F16C", "f16c", "FMA", "fma",
                "AVX512", "avx512f", "AVX512_VNNI", "avx512_vnni", "AVX512_BF16", "avx512_bf16", "SSSE3", "ssse3");
        cpuinfoName.forEach((feature, flag) -> {
            if ("1".equals(features.get(feature))) {
                assertTrue(flags.contains(flag), feature + " variant on a CPU without " + flag);
            }
        });
        // And ggml picks the best variant: with AVX2 and FMA on the CPU it does not fall back to a plain SSE one.
        if (flags.contains("avx2") && flags.contains("fma") && flags.contains("f16c")) {
            assertEquals("1", features.get("AVX2"), "ggml loaded " + features + " on a CPU with AVX2");
        }
        assertTrue(features.keySet().stream().allMatch(k -> k.equals(k.toUpperCase(Locale.ROOT))), features.toString());
    }
}
