package io.sdj.pipeline;

import io.sdj.image.PngInfo;
import io.sdj.model.GoldenModel;
import io.sdj.model.GoldenTaesd;
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
 * Parity with stable-diffusion.cpp for TAESD: every case of ../shared/golden-taesd/cases.tsv (decodes, img2img
 * encoding, q8_0, previews with --taesd-preview-only and --preview-noisy) runs through the sdj CLI with sd-cli's
 * exact arguments on the golden SD 1.5 checkpoint and the deterministic random TAESD, and each golden PNG (and the
 * second output of preview cases) is compared: mean |Δ| ≤ 0.25/255 and max ≤ 4/255 per channel sample (the q8_0 case
 * on a CPU without AVX-512: {@link ParityBound#OTHER_SIMD_QUANTIZED}).
 */
@Tag("slow")
class TaesdGoldenTest {
    static Stream<GoldenTaesd.Case> cases() {
        List<GoldenTaesd.Case> cases = GoldenTaesd.cases();
        assertEquals(6, cases.size(), "cases in ../shared/golden-taesd/cases.tsv");
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesGolden(GoldenTaesd.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work) throws Exception {
        Path golden = GoldenTaesd.dir();
        Path model = GoldenModel.path();
        Path taesd = GoldenTaesd.path();
        GoldenRuns.copyInputs(golden, c.args(), work);
        GoldenRuns.run(c.args(), Map.of("MODEL", model, "TAESD", taesd), work, List.of());
        List<String> files = c.secondOutput() == null ? List.of(c.file()) : List.of(c.file(), c.secondOutput());
        StringBuilder failures = new StringBuilder();
        ParityBound bound = ParityBound.forCase(c.args());
        for (String f : files) {
            String failure = GoldenRuns.check(golden.resolve(f), work.resolve(f), bound);
            if (failure != null) {
                failures.append(failure).append('\n');
            }
        }
        if (c.file().contains("preview")) {
            assertTrue(PngInfo.readTextChunks(work.resolve(c.file())).isEmpty(), "previews have no text chunk");
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }
}
