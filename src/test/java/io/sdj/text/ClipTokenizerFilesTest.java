package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sdj.hub.HubClient;
import io.sdj.hub.HubSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTokenizerFilesTest {
    @TempDir
    Path tmp;

    private static List<String> mergeLines() throws IOException {
        return Files.readAllLines(SharedFiles.merges(), StandardCharsets.UTF_8);
    }

    private Path write(String name, List<String> lines) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, lines, StandardCharsets.UTF_8);
        return p;
    }

    private TokenizerFileException failure(Path merges) {
        return assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromMerges(merges));
    }

    @Test
    void missingFile() {
        Path p = tmp.resolve("nope.txt");
        TokenizerFileException e = failure(p);
        assertEquals(p, e.file());
        assertEquals(0, e.line());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = write("merges.txt", mergeLines().subList(0, 1000));
        TokenizerFileException e = failure(p);
        assertEquals(1000, e.line());
        assertTrue(e.getMessage().contains("after 999 merges"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void tooManyMerges() throws IOException {
        List<String> lines = new ArrayList<>(mergeLines());
        lines.add("a b");
        TokenizerFileException e = failure(write("merges.txt", lines));
        assertEquals(lines.size(), e.line());
    }

    @Test
    void garbledLine() throws IOException {
        List<String> lines = new ArrayList<>(mergeLines());
        lines.set(499, "justonesymbol");
        TokenizerFileException e = failure(write("merges.txt", lines));
        assertEquals(500, e.line());
        assertTrue(e.getMessage().contains("justonesymbol"), e.getMessage());
    }

    @Test
    void unknownSymbol() throws IOException {
        List<String> lines = new ArrayList<>(mergeLines());
        lines.set(9, "qqqzzz yyyxxx");
        TokenizerFileException e = failure(write("merges.txt", lines));
        assertEquals(10, e.line());
        assertTrue(e.getMessage().contains("qqqzzz"), e.getMessage());
    }

    @Test
    void emptyLineInTheMiddle() throws IOException {
        List<String> lines = new ArrayList<>(mergeLines());
        lines.set(20, "");
        assertEquals(21, failure(write("merges.txt", lines)).line());
    }

    @Test
    void invalidUtf8() throws IOException {
        Path p = tmp.resolve("merges.txt");
        byte[] original = Files.readAllBytes(SharedFiles.merges());
        int lineStart = 0;
        for (int line = 1; line < 7; lineStart++) {
            if (original[lineStart] == '\n') {
                line++;
            }
        }
        original[lineStart] = (byte) 0xFF;
        Files.write(p, original);
        TokenizerFileException e = failure(p);
        assertEquals(7, e.line());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void crlfLineEndingsAreAccepted() throws IOException {
        Path p = tmp.resolve("merges.txt");
        Files.writeString(p, String.join("\r\n", mergeLines()) + "\r\n", StandardCharsets.UTF_8);
        assertArrayEquals(SharedFiles.tokenizer().encode("a lovely cat"), ClipTokenizer.fromMerges(p).encode("a lovely cat"));
    }

    @Test
    void findsTokenizerNextToModel() throws IOException {
        Path model = tmp.resolve("models").resolve("sd15.safetensors");
        Files.createDirectories(model.getParent());
        Files.writeString(model, "not really a model");

        HubClient offline = new HubClient(HubSettings.fromEnvironment().withCacheDir(tmp.resolve("hf-cache"))
                .withOffline(true));
        TokenizerNotFoundException missing = assertThrows(TokenizerNotFoundException.class,
                () -> ClipTokenizer.forModel(model, offline));
        assertEquals(List.of(model.getParent().resolve("tokenizer/merges.txt"), model.getParent().resolve("merges.txt")),
                missing.searched());
        assertTrue(missing.getMessage().contains(model.getParent().resolve("tokenizer/merges.txt").toString()),
                missing.getMessage());

        Files.copy(SharedFiles.merges(), model.getParent().resolve("merges.txt"));
        assertEquals(model.getParent().resolve("merges.txt"), ClipTokenizer.forModel(model, offline).source());

        Path folder = model.getParent().resolve("tokenizer");
        Files.createDirectories(folder);
        Files.copy(SharedFiles.merges(), folder.resolve("merges.txt"));
        ClipTokenizer fromFolder = ClipTokenizer.forModel(model, offline);
        assertEquals(folder.resolve("merges.txt"), fromFolder.source());
        // a diffusers model folder is searched itself
        assertEquals(folder.resolve("merges.txt"), ClipTokenizer.forModel(model.getParent(), offline).source());
        assertArrayEquals(new int[] {320, 2165, 2368}, fromFolder.encode("a lovely cat"));
    }

    @Test
    void vocabJsonIsCrossChecked() throws IOException {
        Path folder = tmp.resolve("tokenizer");
        Files.createDirectories(folder);
        Files.copy(SharedFiles.merges(), folder.resolve("merges.txt"));
        ClipTokenizer tok = SharedFiles.tokenizer();

        Files.writeString(folder.resolve("vocab.json"), vocabJson(tok, -1), StandardCharsets.UTF_8);
        assertArrayEquals(new int[] {320, 2165, 2368}, ClipTokenizer.fromDirectory(folder).encode("a lovely cat"));

        Files.writeString(folder.resolve("vocab.json"), vocabJson(tok, 2165), StandardCharsets.UTF_8);
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.fromDirectory(folder));
        assertEquals(folder.resolve("vocab.json"), e.file());
        assertTrue(e.getMessage().contains("lovely</w>"), e.getMessage());

        Files.writeString(folder.resolve("vocab.json"), "{\"a\": 1,\n \"b\" 2}", StandardCharsets.UTF_8);
        TokenizerFileException syntax = assertThrows(TokenizerFileException.class,
                () -> ClipTokenizer.fromDirectory(folder));
        assertEquals(2, syntax.line());
    }

    /** A vocab.json with \\u escapes for non-ASCII tokens; {@code corruptId} gets its id off by one. */
    private static String vocabJson(ClipTokenizer tok, int corruptId) {
        StringBuilder sb = new StringBuilder("{");
        for (int id = 0; id < tok.vocabSize(); id++) {
            if (id > 0) {
                sb.append(",\n");
            }
            sb.append('"');
            for (char c : tok.tokenString(id).toCharArray()) {
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20 || c > 0x7E) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else {
                    sb.append(c);
                }
            }
            sb.append("\": ").append(id == corruptId ? id + 1 : id);
        }
        return sb.append("}\n").toString();
    }
}
