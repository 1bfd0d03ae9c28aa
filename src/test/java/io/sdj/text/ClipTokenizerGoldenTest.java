package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every row of ../shared/golden/tokens.tsv (ids sd-cli fed to the CLIP text encoder) must come out exactly. */
class ClipTokenizerGoldenTest {

    @TestFactory
    List<DynamicTest> goldenRows() throws IOException {
        List<String> lines = Files.readAllLines(SharedFiles.shared().resolve("golden").resolve("tokens.tsv"));
        List<String> header = Arrays.asList(lines.getFirst().split("\t"));
        int promptCol = header.indexOf("prompt");
        int bpeCol = header.indexOf("sdcli_v_bpe_tokens");
        int countCol = header.indexOf("n_bpe");
        int idsCol = header.size() - 1;
        assertTrue(header.get(idsCol).startsWith("ids_77"), "last column holds the ids: " + header);
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] cols = line.split("\t", -1);
            String prompt = cols[promptCol].equals("(empty)") ? "" : cols[promptCol];
            int[] expected = Arrays.stream(cols[idsCol].split(",")).mapToInt(Integer::parseInt).toArray();
            tests.add(DynamicTest.dynamicTest("'" + prompt + "'", () -> {
                ClipTokenizer tok = SharedFiles.tokenizer();
                TokenizedPrompt tp = tok.tokenizeWeighted(prompt);
                assertArrayEquals(expected, tp.ids());
                assertTrue(tp.isUnweighted());

                int[] bpe = tok.encode(prompt);
                assertEquals(Integer.parseInt(cols[countCol]), bpe.length);
                List<String> expectedStrings = cols[bpeCol].equals("(none)") ? List.of()
                        : Arrays.asList(cols[bpeCol].split(" "));
                assertEquals(expectedStrings, tok.tokenStrings(bpe));
            }));
        }
        assertEquals(4, tests.size(), "tokens.tsv rows");
        return tests;
    }
}
