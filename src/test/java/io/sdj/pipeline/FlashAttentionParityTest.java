package io.sdj.pipeline;

import io.sdj.model.GoldenCases;
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

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * sd.cpp's own flash-attention drift is small (its c01 moves by 0.12/255 mean, max 1, with --diffusion-fa): the
 * golden SD 1.5 cases run with --diffusion-fa must stay within the parity bound of the regular golden images.
 */
@Tag("slow")
class FlashAttentionParityTest {

    static Stream<GoldenCases.Case> cases() {
        return GoldenCases.all().stream().filter(c -> List.of("c01", "c03", "c09", "c11")
                .contains(c.file().substring(0, 3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void staysWithinTheParityBound(GoldenCases.Case c, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path work)
            throws Exception {
        Path golden = GoldenModel.sharedDir().resolve("golden");
        GoldenRuns.copyInputs(golden, c.args(), work);
        GoldenRuns.run(c.args(), Map.of("MODEL", GoldenModel.path()), work, List.of("--diffusion-fa"));
        assertNull(GoldenRuns.check(golden.resolve(c.file()), work.resolve(c.file()), ParityBound.forCase(c.args())));
    }
}
