package io.sdj.cli;

import io.sdj.image.ImageParameters;
import io.sdj.image.PngInfo;
import io.sdj.pipeline.GenerationRequest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
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
        List<String> lines = Files.readAllLines(golden.resolve("cases.tsv"));
        int checked = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] cols = line.split("\t");
            List<String> args = shellWords(cols[1].replace("MODEL", "sd15_random_seed1.safetensors"));
            // -i is relative to the folder sd-cli ran in; -o is not part of the metadata
            int i = args.indexOf("-i");
            if (i >= 0) {
                args.set(i + 1, golden.resolve(args.get(i + 1)).toString());
            }
            CliOptions o = CliOptions.parse(args.toArray(String[]::new));
            GenerationRequest r = Main.request(o);
            String ours = Main.metadata(o, r, r.seed());
            String theirs = PngInfo.readParameters(golden.resolve(cols[0])).orElseThrow();
            ImageParameters.Generator sdj = ImageParameters.Generator.SDJ;
            ImageParameters.Generator sdcpp = ImageParameters.Generator.STABLE_DIFFUSION_CPP;
            String expected = theirs.replace("Version: " + sdcpp.name() + ",", "Version: " + sdj.name() + ",")
                    .replace("{\"commit\":\"" + sdcpp.commit() + "\",\"name\":\"" + sdcpp.name() + "\",\"version\":\""
                            + sdcpp.version() + "\"}", "{\"commit\":\"" + sdj.commit() + "\",\"name\":\"" + sdj.name()
                            + "\",\"version\":\"" + sdj.version() + "\"}");
            assertEquals(expected, ours, cols[0]);
            checked++;
        }
        assertEquals(12, checked);
    }

    /** Splits a POSIX shell word list with single quotes (all cases.tsv uses). */
    private static List<String> shellWords(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        for (char c : s.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                inWord = true;
            } else if (c == ' ' && !quoted) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }
}
