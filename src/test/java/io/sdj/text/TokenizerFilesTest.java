package io.sdj.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tokenizers of CLIP's construction with fewer merges, as the stand-in model uses, and their checks. */
class TokenizerFilesTest {
    static final List<String> MERGES = List.of("c a", "ca t</w>", "l o", "lo v", "e l", "el y</w>", "lov ely</w>");

    @TempDir
    Path tmp;

    @Test
    void aSmallVocabularyTokenizesWithItsOwnSpecialIds() {
        TokenizerFiles files = TokenizerFiles.write(tmp.resolve("tokenizer"), MERGES);
        ClipTokenizer tok = ClipTokenizer.fromDirectory(tmp.resolve("tokenizer"));
        assertEquals(files.merges(), tok.source());
        assertEquals(512 + MERGES.size() + 2, tok.vocabSize());
        int cat = 512 + 1;
        int lovely = 512 + 6;
        int a = 256 + 64; // 'a' + </w>: 'a' is the 65th printable byte ('!' is the first)
        assertArrayEquals(new int[] {a, lovely, cat}, tok.encode("a lovely cat"));
        assertEquals("a lovely cat", tok.decode(tok.encode("a lovely cat")));
        TokenizedPrompt p = tok.tokenizeWeighted("a lovely cat");
        assertEquals(tok.bosId(), p.ids()[0]);
        assertEquals(tok.eosId(), p.ids()[4]);
        assertEquals(tok.eosId(), p.ids()[76], "SD1 padding is the vocabulary's EOS");
        assertThrows(io.sdj.InvalidParameterException.class, () -> tok.tokenizeWeighted("x", ClipTokenizer.EOS_ID));
    }

    @Test
    void vocabJsonAndMergesMustAgree() throws IOException {
        Path dir = tmp.resolve("tokenizer");
        TokenizerFiles.write(dir, MERGES);
        // one merge fewer than vocab.json calls for
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", MERGES.subList(0, 6)) + "\n");
        TokenizerFileException truncated = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromDirectory(dir));
        assertTrue(truncated.getMessage().contains("vocab.json has 521 entries, which need 7"), truncated.getMessage());
        // a vocab.json with ids that the merges do not give
        TokenizerFiles.write(dir, MERGES);
        String json = Files.readString(dir.resolve("vocab.json")).replace("\"cat</w>\": 513", "\"cat</w>\": 999");
        Files.writeString(dir.resolve("vocab.json"), json, StandardCharsets.UTF_8);
        TokenizerFileException ids = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromDirectory(dir));
        assertTrue(ids.getMessage().contains("cat</w>"), ids.getMessage());
        // too few entries for even the byte symbols
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        TokenizerFileException tiny = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromDirectory(dir));
        assertTrue(tiny.getMessage().contains("514"), tiny.getMessage());
        // merges.txt alone must be CLIP's full file
        Files.delete(dir.resolve("vocab.json"));
        TokenizerFileException alone = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromDirectory(dir));
        assertTrue(alone.getMessage().contains("CLIP needs 48894"), alone.getMessage());
    }

    @Test
    void badMergesAreRefusedWhenWriting() {
        assertThrows(TokenizerFileException.class, () -> TokenizerFiles.write(tmp, List.of("qq zz")));
        assertThrows(TokenizerFileException.class, () -> TokenizerFiles.write(tmp, List.of("onesymbol")));
    }

    @Test
    void clipsVocabJsonIsReproducedFromMerges() {
        String json = SharedFiles.tokenizer().vocabJson();
        assertTrue(json.startsWith("{\"!\": 0, \"\\\"\": 1, \"#\": 2,"), json.substring(0, 40));
        assertTrue(json.endsWith("\"<|startoftext|>\": 49406, \"<|endoftext|>\": 49407}"));
    }
}
