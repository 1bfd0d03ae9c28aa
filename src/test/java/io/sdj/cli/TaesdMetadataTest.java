package io.sdj.cli;

import io.sdj.image.ImageParameters;
import io.sdj.image.PngInfo;
import io.sdj.model.GoldenTaesd;
import io.sdj.pipeline.GenerationRequest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * For the TAESD golden cases, sd-cli's exact arguments give the golden final PNG's "parameters" text (with the TAESD
 * file's base name in the JSON "models"), apart from the generator. The build that made them wrote "unknown" as its
 * version and commit.
 */
class TaesdMetadataTest {

    @Test
    void sdCliArgumentsGiveTheGoldenParameters() throws IOException {
        Path golden = GoldenTaesd.dir();
        ImageParameters.Generator theirs = new ImageParameters.Generator("stable-diffusion.cpp", "unknown", "unknown");
        ImageParameters.Generator sdj = ImageParameters.Generator.SDJ;
        int checked = 0;
        for (GoldenTaesd.Case c : GoldenTaesd.cases()) {
            List<String> args = new ArrayList<>(c.args());
            args.replaceAll(a -> a.equals("MODEL") ? "sd15_random_seed1.safetensors"
                    : a.equals("TAESD") ? "taesd_random_seed1.safetensors" : a);
            int i = args.indexOf("-i");
            if (i >= 0) {
                args.set(i + 1, golden.resolve(args.get(i + 1)).toString());
            }
            CliOptions o = CliOptions.parse(args.toArray(String[]::new));
            GenerationRequest r = Main.request(o);
            String file = c.secondOutput() == null ? c.file() : c.secondOutput(); // previews have no text chunk
            String expected = PngInfo.readParameters(golden.resolve(file)).orElseThrow()
                    .replace("Version: " + theirs.name() + ",", "Version: " + sdj.name() + ",")
                    .replace("{\"commit\":\"" + theirs.commit() + "\",\"name\":\"" + theirs.name() + "\",\"version\":\""
                            + theirs.version() + "\"}", "{\"commit\":\"" + sdj.commit() + "\",\"name\":\"" + sdj.name()
                            + "\",\"version\":\"" + sdj.version() + "\"}");
            assertEquals(expected, Main.metadata(o, r, r.seed()), file);
            checked++;
        }
        assertEquals(6, checked);
    }
}
