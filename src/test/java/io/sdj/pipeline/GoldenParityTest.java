package io.sdj.pipeline;

import io.sdj.model.GoldenCases;
import io.sdj.model.GoldenCheckpoint;
import io.sdj.model.GoldenModel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Image-for-image parity with stable-diffusion.cpp for every family: each case of
 * ../shared/{golden,golden-sd2,golden-sdxl}/cases.tsv runs through the sdj CLI with sd-cli's exact arguments on the
 * folder's deterministic checkpoint (regenerated and checked against its published SHA-256) and is compared with the
 * golden PNG: mean absolute difference per channel sample ≤ 0.25/255 and maximum ≤ 4/255 ({@link ParityBound}: the
 * quantized cases on a CPU without AVX-512 are held to {@link ParityBound#OTHER_SIMD_QUANTIZED}).
 */
@Tag("slow")
class GoldenParityTest {
    static Stream<GoldenCases.Case> sd15() {
        return cases("golden", 12);
    }

    static Stream<GoldenCases.Case> sd2() {
        return cases("golden-sd2", 13);
    }

    static Stream<GoldenCases.Case> sdxl() {
        return cases("golden-sdxl", 11);
    }

    static Stream<GoldenCases.Case> lora() {
        return cases("golden-lora", 12);
    }

    private static Stream<GoldenCases.Case> cases(String folder, int count) {
        List<GoldenCases.Case> cases = GoldenCases.all(folder);
        assertEquals(count, cases.size(), "cases in ../shared/" + folder + "/cases.tsv");
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sd15")
    void sd15MatchesGolden(GoldenCases.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work) throws Exception {
        check("golden", GoldenCheckpoint.SD15, c, work);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sd2")
    void sd2MatchesGolden(GoldenCases.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work) throws Exception {
        check("golden-sd2", GoldenCheckpoint.SD2, c, work);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sdxl")
    void sdxlMatchesGolden(GoldenCases.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work) throws Exception {
        check("golden-sdxl", GoldenCheckpoint.SDXL, c, work);
    }

    /** ../shared/golden-lora: LoRA files (LORADIR) on the SD 1.5 checkpoint, merged and at run time. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("lora")
    void loraMatchesGolden(GoldenCases.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work) throws Exception {
        check("golden-lora", GoldenCheckpoint.SD15, c, work);
    }

    /** Runs one case in {@code work}, which JUnit keeps, images and all, when the case fails. */
    private static void check(String folder, GoldenCheckpoint.Spec spec, GoldenCases.Case c, Path work)
            throws Exception {
        Path golden = GoldenModel.sharedDir().resolve(folder);
        GoldenRuns.copyInputs(golden, c.args(), work);
        GoldenRuns.run(c.args(), Map.of("MODEL", GoldenModel.path(spec), "LORADIR", golden.resolve("loras")), work,
                List.of());
        String failure = GoldenRuns.check(golden.resolve(c.file()), work.resolve(c.file()), ParityBound.forCase(c.args()));
        assertTrue(failure == null, failure);
    }
}
