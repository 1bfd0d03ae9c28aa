package io.sdj.cli;

import io.sdj.hub.HubClient;
import io.sdj.hub.HubFileRef;
import io.sdj.hub.HubSettings;
import io.sdj.hub.LoopbackHub;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.LdmLayout;
import io.sdj.model.StandInModel;
import io.sdj.text.ClipTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What {@code make run} does, with nothing from ../shared: sdj writes its stand-in model and tokenizer, then the CLI
 * generates with them; and the same files as {@code hf://} references from a hub cache.
 */
class StandInTest {
    @TempDir
    static Path dir;
    static Path model;
    static String written;

    @BeforeAll
    static void writeStandIn() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            model = StandIn.write(dir, out);
        }
        written = bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theStandInIsAnSd1CheckpointWithATokenizerOfItsSize() {
        assertEquals(dir.resolve(StandIn.MODEL_FILE), model);
        assertTrue(written.contains("random") && written.contains("textures"), written);
        int vocab = 512 + StandIn.MERGES.size() + 2;
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            assertEquals(StandInModel.config(vocab), io.sdj.family.ModelFamilies.detect(f).configure(f));
            assertEquals("4", f.metadata().get(LdmLayout.HEADS_METADATA_KEY));
        }
        ClipTokenizer tok = ClipTokenizer.fromDirectory(dir.resolve("tokenizer"));
        assertEquals(vocab, tok.vocabSize());
        assertEquals(3, tok.encode("a lovely cat").length, "one id per word");
    }

    @Test
    void theCliGeneratesWithNothingButTheModel() throws IOException {
        Path out = dir.resolve("out.png");
        CliRun r = CliRun.of("-m", model.toString(), "-p", "a lovely cat", "-W", "64", "-H", "64", "--steps", "2",
                "--backend", "cpu", "-t", "2", "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(64, img.getWidth());
        long colours = Arrays.stream(img.getRGB(0, 0, 64, 64, null, 0, 64)).distinct().count();
        assertTrue(colours > 50, "a texture, not a flat image: " + colours + " colours");
    }

    /**
     * {@code -m hf://...}: the stand-in published on a loopback hub, fetched into the hub cache the tests' environment
     * names, then generated from offline with its tokenizer/ folder from the same snapshot.
     */
    @Test
    void hubReferencesResolveThroughTheCache() throws IOException {
        HubSettings env = HubSettings.fromEnvironment();
        assumeTrue(env.offline() && env.cacheDir().toString().contains("test-hf-cache"),
                "needs the offline test cache that the pom sets (HF_HUB_OFFLINE, HF_HUB_CACHE)");
        String repo = "sdj-test/stand-in";
        deleteTree(env.cacheDir().resolve("models--sdj-test--stand-in")); // what an earlier run left
        try (LoopbackHub server = new LoopbackHub()) {
            server.lfsFile(repo, StandIn.MODEL_FILE, Files.readAllBytes(model));
            for (String f : new String[] {"tokenizer/merges.txt", "tokenizer/vocab.json"}) {
                server.gitFile(repo, f, Files.readAllBytes(dir.resolve(f)));
            }
            HubClient fill = new HubClient(server.settings(env.cacheDir()));
            for (String f : new String[] {StandIn.MODEL_FILE, "tokenizer/merges.txt", "tokenizer/vocab.json"}) {
                fill.resolve(HubFileRef.of(repo, f));
            }
        }
        Path out = dir.resolve("hub.png");
        CliRun r = CliRun.of("-m", "hf://" + repo + "/" + StandIn.MODEL_FILE, "-p", "a lovely cat", "-W", "64",
                "-H", "64", "--steps", "1", "--backend", "cpu", "-t", "2", "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(64, ImageIO.read(out.toFile()).getHeight());

        CliRun missing = CliRun.of("-m", "hf://" + repo + "/nope.safetensors", "-p", "cat");
        assertEquals(Main.EXIT_FAILURE, missing.status());
        assertTrue(missing.err().contains("HF_HUB_OFFLINE"), missing.err());
        CliRun bad = CliRun.of("-m", "hf://" + repo, "-p", "cat");
        assertEquals(Main.EXIT_USAGE, bad.status(), bad.err());
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void standInFilesAreDeterministic(@TempDir Path other) throws IOException {
        Path again = StandIn.write(other, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(again));
        assertArrayEquals(Files.readAllBytes(dir.resolve("tokenizer/vocab.json")),
                Files.readAllBytes(other.resolve("tokenizer/vocab.json")));
    }
}
