package io.sdj.text;

import io.sdj.hub.DownloadProgress;
import io.sdj.hub.HubChecksumException;
import io.sdj.hub.HubClient;
import io.sdj.hub.HubFileRef;
import io.sdj.hub.LoopbackHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLIP tokenizer of a model without tokenizer files: fetched once from a loopback hub that serves the shared
 * merges.txt and the vocab.json derived from it in the shape of openai/clip-vit-large-patch14, checked against the
 * pins, then used from the cache.
 */
class ClipTokenizerHubTest {
    static final String REPO = TokenizerFiles.CLIP_REPO;

    @TempDir
    Path tmp;
    LoopbackHub server;
    Path model;
    byte[] merges;
    byte[] vocab;

    @BeforeEach
    void start() throws IOException {
        merges = Files.readAllBytes(SharedFiles.merges());
        vocab = SharedFiles.tokenizer().vocabJson().getBytes(StandardCharsets.UTF_8);
        server = new LoopbackHub().gitFile(REPO, "merges.txt", merges).gitFile(REPO, "vocab.json", vocab);
        model = tmp.resolve("models").resolve("sd15.safetensors");
        Files.createDirectories(model.getParent());
        Files.writeString(model, "a model without tokenizer files beside it");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    HubClient hub() {
        return new HubClient(server.settings(tmp.resolve("hf")));
    }

    @Test
    void thePinsAreThoseOfClipsFiles() {
        assertEquals(TokenizerFiles.CLIP_MERGES_SHA256, LoopbackHub.sha256(merges), "the shared merges.txt is CLIP's");
        assertEquals(524_619, merges.length);
        // vocab.json of openai/clip-vit-large-patch14 is the merges-derived vocabulary in json.dumps form
        assertEquals(TokenizerFiles.CLIP_VOCAB_SHA256, LoopbackHub.sha256(vocab));
        assertEquals(961_143, vocab.length);
    }

    @Test
    void aModelWithoutFilesGetsClipsFromTheHubOnceThenFromTheCache() throws IOException {
        List<DownloadProgress> progress = new ArrayList<>();
        HubClient hub = new HubClient(server.settings(tmp.resolve("hf")), progress::add);
        ClipTokenizer tok = ClipTokenizer.forModel(model, hub);
        assertArrayEquals(new int[] {320, 2165, 2368}, tok.encode("a lovely cat"));
        assertEquals(ClipTokenizer.VOCAB_SIZE, tok.vocabSize());
        Path snapshot = tmp.resolve("hf").resolve("models--openai--clip-vit-large-patch14").resolve("snapshots")
                .resolve(LoopbackHub.COMMIT);
        assertEquals(snapshot.resolve("merges.txt"), tok.source());
        assertTrue(Files.isSymbolicLink(snapshot.resolve("vocab.json")));
        assertEquals(2, progress.stream().filter(DownloadProgress::done).count(), "vocab.json and merges.txt");
        // the folder the CLI hands to the pipeline
        assertEquals(snapshot, TokenizerFiles.locate(model, hub).path());

        server.clearRequests();
        ClipTokenizer again = ClipTokenizer.forModel(model, hub);
        assertArrayEquals(tok.encode("a photo of an astronaut"), again.encode("a photo of an astronaut"));
        assertEquals(List.of(), server.requests(), "cached files need no request");
        // offline too
        ClipTokenizer offline = ClipTokenizer.forModel(model,
                new HubClient(server.settings(tmp.resolve("hf")).withOffline(true)));
        assertEquals(snapshot.resolve("merges.txt"), offline.source());
    }

    @Test
    void offlineAndNotCachedSaysHowToProvideTheFiles() {
        HubClient offline = new HubClient(server.settings(tmp.resolve("hf")).withOffline(true));
        TokenizerNotFoundException e = assertThrows(TokenizerNotFoundException.class,
                () -> ClipTokenizer.forModel(model, offline));
        String m = e.getMessage();
        for (String hint : new String[] {"--tokenizer", "tokenizer/", "HF_HOME", "HF_HUB_OFFLINE", REPO,
                model.getParent().resolve("tokenizer").resolve("merges.txt").toString(), tmp.resolve("hf").toString()}) {
            assertTrue(m.contains(hint), "'" + hint + "' missing from: " + m);
        }
        assertEquals(List.of(), server.requests());
    }

    @Test
    void filesThatAreNotClipsAreRefused() throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(SharedFiles.merges(), StandardCharsets.UTF_8));
        java.util.Collections.swap(lines, 100, 101); // a consistent file (its ETag matches), but not CLIP's
        byte[] other = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        server.gitFile(REPO, "merges.txt", other);
        HubChecksumException e = assertThrows(HubChecksumException.class, () -> ClipTokenizer.forModel(model, hub()));
        assertEquals(TokenizerFiles.CLIP_MERGES_SHA256, e.expected());
        assertTrue(hub().cached(HubFileRef.of(REPO, "merges.txt")).isEmpty(), "a refused file is not cached");
    }

    @Test
    void theModelsOwnFilesWinOverTheHub() throws IOException {
        TokenizerFiles own = TokenizerFiles.write(model.getParent().resolve("tokenizer"), List.of("c a", "ca t</w>"));
        ClipTokenizer tok = ClipTokenizer.forModel(model, hub());
        assertEquals(own.merges(), tok.source());
        assertEquals(List.of(), server.requests());
        assertEquals(516, tok.vocabSize());
        assertEquals(514, tok.bosId());
        assertEquals(515, tok.eosId());
        assertArrayEquals(new int[] {513}, tok.encode("cat"));
        assertEquals(model.getParent().resolve("tokenizer"), TokenizerFiles.locate(model, hub()).path());
    }
}
