package io.sdj.cli;

import io.sdj.image.ImageParameters;
import io.sdj.image.PngInfo;
import io.sdj.model.GoldenCases;
import io.sdj.pipeline.GenerationRequest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * For every golden case, parsing sd-cli's exact argument string and building the metadata gives the golden PNG's
 * "parameters" text, apart from the generator (sdj instead of stable-diffusion.cpp).
 */
class GoldenMetadataTest {

    @Test
    void sdCliArgumentsGiveTheGoldenParameters() throws IOException {
        Path golden = CliRun.shared().resolve("golden");
        int checked = 0;
        for (GoldenCases.Case c : GoldenCases.all()) {
            List<String> args = new ArrayList<>(c.args());
            args.replaceAll(a -> a.equals("MODEL") ? "sd15_random_seed1.safetensors" : a);
            // -i is relative to the folder sd-cli ran in; -o is not part of the metadata
            int i = args.indexOf("-i");
            if (i >= 0) {
                args.set(i + 1, golden.resolve(args.get(i + 1)).toString());
            }
            CliOptions o = CliOptions.parse(args.toArray(String[]::new));
            GenerationRequest r = Main.request(o);
            String ours = Main.metadata(o, r, r.seed());
            String theirs = PngInfo.readParameters(golden.resolve(c.file())).orElseThrow();
            ImageParameters.Generator sdj = ImageParameters.Generator.SDJ;
            ImageParameters.Generator sdcpp = ImageParameters.Generator.STABLE_DIFFUSION_CPP;
            String expected = theirs.replace("Version: " + sdcpp.name() + ",", "Version: " + sdj.name() + ",")
                    .replace("{\"commit\":\"" + sdcpp.commit() + "\",\"name\":\"" + sdcpp.name() + "\",\"version\":\""
                            + sdcpp.version() + "\"}", "{\"commit\":\"" + sdj.commit() + "\",\"name\":\"" + sdj.name()
                            + "\",\"version\":\"" + sdj.version() + "\"}");
            assertEquals(expected, ours, c.file());
            checked++;
        }
        assertEquals(12, checked);
    }
}
