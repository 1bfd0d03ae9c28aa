package io.sdj.hub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HubClient} against {@link LoopbackHub}: the cache layout, offline use, checksums, resuming, redirects. */
class HubClientTest {
    static final String REPO = "sdj-test/tiny";
    static final String COMMIT = LoopbackHub.COMMIT;

    @TempDir
    Path tmp;
    LoopbackHub server;
    Path cache;
    byte[] small;
    byte[] big;

    @BeforeEach
    void start() throws IOException {
        server = new LoopbackHub();
        cache = tmp.resolve("hub");
        small = "{\"hello\": \"hub\"}\n".getBytes(StandardCharsets.UTF_8);
        big = new byte[300_000];
        new Random(7).nextBytes(big);
        server.gitFile(REPO, "config.json", small).lfsFile(REPO, "unet/model.safetensors", big);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    HubClient client() {
        return new HubClient(server.settings(cache));
    }

    Path repoDir() {
        return cache.resolve("models--sdj-test--tiny");
    }

    @Test
    void firstFetchDownloadsVerifiesAndCachesInTheHubLayout() throws IOException {
        List<DownloadProgress> progress = new ArrayList<>();
        HubClient hub = new HubClient(server.settings(cache), progress::add);

        Path config = hub.resolve(HubFileRef.of(REPO, "config.json"));
        assertEquals(repoDir().resolve("snapshots").resolve(COMMIT).resolve("config.json"), config);
        assertArrayEquals(small, Files.readAllBytes(config));
        assertTrue(Files.isSymbolicLink(config));
        String gitEtag = LoopbackHub.gitBlobId(small);
        assertEquals(Path.of("..", "..", "blobs", gitEtag), Files.readSymbolicLink(config), "relative link, as Python makes");
        assertEquals(COMMIT, Files.readString(repoDir().resolve("refs").resolve("main")));

        Path weights = hub.resolve(HubFileRef.of(REPO, "unet/model.safetensors"));
        assertEquals(repoDir().resolve("snapshots").resolve(COMMIT).resolve("unet").resolve("model.safetensors"), weights);
        assertArrayEquals(big, Files.readAllBytes(weights));
        assertEquals(Path.of("..", "..", "..", "blobs", LoopbackHub.sha256(big)), Files.readSymbolicLink(weights));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertEquals(List.of(gitEtag, LoopbackHub.sha256(big)).stream().sorted().toList(),
                    blobs.map(p -> p.getFileName().toString()).sorted().toList(), "no .incomplete left behind");
        }
        // the LFS file came from the CDN after the hub's redirect
        assertTrue(server.requests().stream().anyMatch(r -> r.server().equals("cdn") && r.method().equals("GET")));
        DownloadProgress last = progress.getLast();
        assertTrue(last.done());
        assertEquals(big.length, last.bytes());
        assertEquals(big.length, last.totalBytes());
        assertEquals(1.0, last.fraction());
        assertEquals(0, progress.getFirst().bytes());
    }

    @Test
    void secondCallUsesTheCacheWithoutNetwork() {
        HubFileRef ref = HubFileRef.of(REPO, "unet/model.safetensors");
        Path first = client().cachedOrDownload(ref, LoopbackHub.sha256(big));
        server.clearRequests();
        assertEquals(first, client().cachedOrDownload(ref, LoopbackHub.sha256(big)));
        assertEquals(List.of(), server.requests(), "a cached file needs no request");
        assertEquals(first, client().cached(ref).orElseThrow());

        // resolve() asks the hub for the current commit (one HEAD) but downloads nothing
        assertEquals(first, client().resolve(ref));
        assertEquals(List.of("HEAD"), server.requests().stream().map(LoopbackHub.Request::method).toList());
    }

    @Test
    void aCacheFilledByPythonIsUsedAsItIs() throws IOException {
        // what huggingface_hub leaves behind: blobs/{etag}, snapshots/{commit}/{path} -> ../../blobs/{etag}, refs/main
        String etag = LoopbackHub.gitBlobId(small);
        Path blob = repoDir().resolve("blobs").resolve(etag);
        Files.createDirectories(blob.getParent());
        Files.write(blob, small);
        Path pointer = repoDir().resolve("snapshots").resolve("feedfacefeedfacefeedfacefeedfacefeedface")
                .resolve("config.json");
        Files.createDirectories(pointer.getParent());
        Files.createSymbolicLink(pointer, Path.of("..", "..", "blobs", etag));
        Files.createDirectories(repoDir().resolve("refs"));
        Files.writeString(repoDir().resolve("refs").resolve("main"), "feedfacefeedfacefeedfacefeedfacefeedface");

        assertEquals(pointer, client().cachedOrDownload(HubFileRef.of(REPO, "config.json"), null));
        assertEquals(List.of(), server.requests());
        // offline, the same
        HubClient offline = new HubClient(server.settings(cache).withOffline(true));
        assertEquals(pointer, offline.resolve(HubFileRef.of(REPO, "config.json")));
        // a commit revision that is cached is used without a request even online
        assertEquals(pointer, client().resolve(HubFileRef.of(REPO, "config.json")
                .at("feedfacefeedfacefeedfacefeedfacefeedface")));
        assertEquals(List.of(), server.requests());
    }

    @Test
    void offlineModeUsesOnlyTheCache() {
        HubFileRef ref = HubFileRef.of(REPO, "config.json");
        HubClient offline = new HubClient(server.settings(cache).withOffline(true));
        HubNotCachedException e = assertThrows(HubNotCachedException.class, () -> offline.resolve(ref));
        assertTrue(e.offline());
        assertEquals(ref, e.file());
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
        assertTrue(e.getMessage().contains(cache.toString()), e.getMessage());
        assertEquals(List.of(), server.requests(), "offline mode makes no request");

        Path online = client().resolve(ref);
        server.clearRequests();
        assertEquals(online, offline.resolve(ref));
        assertEquals(online, offline.cachedOrDownload(ref, null));
        assertEquals(List.of(), server.requests());
    }

    @Test
    void anUnreachableHubFallsBackToTheCache() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        HubClient down = new HubClient(server.settings(cache).withEndpoint(URI.create("http://127.0.0.1:" + closedPort)));
        HubFileRef ref = HubFileRef.of(REPO, "config.json");
        HubNotCachedException e = assertThrows(HubNotCachedException.class, () -> down.resolve(ref));
        assertFalse(e.offline());
        assertTrue(e.getMessage().contains("could not be reached"), e.getMessage());

        Path cached = client().resolve(ref);
        assertEquals(cached, down.resolve(ref), "the cached file for refs/main");
    }

    @Test
    void aCorruptDownloadIsRefusedAndNotCached() throws IOException {
        byte[] wrong = big.clone();
        wrong[1234] ^= 1;
        server.corrupt(REPO, "unet/model.safetensors", wrong);
        HubChecksumException lfs = assertThrows(HubChecksumException.class,
                () -> client().resolve(HubFileRef.of(REPO, "unet/model.safetensors")));
        assertEquals(LoopbackHub.sha256(wrong), lfs.actual());
        assertTrue(lfs.getMessage().contains("SHA-256"), lfs.getMessage());

        server.corrupt(REPO, "config.json", "{\"hello\": \"evil\"}\n".getBytes(StandardCharsets.UTF_8));
        HubChecksumException git = assertThrows(HubChecksumException.class,
                () -> client().resolve(HubFileRef.of(REPO, "config.json")));
        assertTrue(git.getMessage().contains("git blob id"), git.getMessage());

        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertEquals(List.of(), blobs.toList(), "neither the blob nor its .incomplete stays");
        }
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("config.json")));
        assertTrue(client().cached(HubFileRef.of(REPO, "config.json")).isEmpty());
    }

    @Test
    void aFileThatDiffersFromItsPinIsRefused() {
        String otherSha = "0".repeat(64);
        HubChecksumException e = assertThrows(HubChecksumException.class,
                () -> client().resolve(HubFileRef.of(REPO, "config.json"), otherSha));
        assertEquals(otherSha, e.expected());
        assertTrue(client().cached(HubFileRef.of(REPO, "config.json")).isEmpty());
        // a good pin passes, and a cached file is checked against the pin too
        Path ok = client().resolve(HubFileRef.of(REPO, "config.json"), LoopbackHub.sha256(small));
        assertTrue(Files.exists(ok));
        HubChecksumException cached = assertThrows(HubChecksumException.class,
                () -> client().cachedOrDownload(HubFileRef.of(REPO, "config.json"), otherSha));
        assertTrue(cached.getMessage().contains("delete it"), cached.getMessage());
    }

    @Test
    void anInterruptedDownloadIsResumedWithARangeRequest() throws IOException {
        HubFileRef ref = HubFileRef.of(REPO, "unet/model.safetensors");
        Path part = repoDir().resolve("blobs").resolve(LoopbackHub.sha256(big) + ".incomplete");
        server.cutNextDownloadAfter(100_000);
        HubException cut = assertThrows(HubException.class, () -> client().resolve(ref));
        assertTrue(cut.getMessage().contains("resumes"), cut.getMessage());
        // the server sent 100 000 bytes before dropping the connection; the JDK's client may lose the last
        // buffers it had queued when the connection resets, so the part holds at most that many
        long kept = Files.size(part);
        assertTrue(kept > 0 && kept <= 100_000, "part holds " + kept + " bytes");
        assertTrue(client().cached(ref).isEmpty());

        server.clearRequests();
        List<DownloadProgress> progress = new ArrayList<>();
        Path done = new HubClient(server.settings(cache), progress::add).resolve(ref);
        assertArrayEquals(big, Files.readAllBytes(done));
        assertFalse(Files.exists(part));
        List<LoopbackHub.Request> gets = server.requests("GET");
        assertEquals(1, gets.size());
        assertEquals("bytes=" + kept + "-", gets.getFirst().range());
        assertEquals(kept, progress.getFirst().resumedAt());
        assertEquals(kept, progress.getFirst().bytes());
    }

    @Test
    void aStalledDownloadIsClosedAndResumedLater() throws IOException {
        HubFileRef ref = HubFileRef.of(REPO, "unet/model.safetensors");
        server.stallNextDownloadAfter(70_000);
        HubClient impatient = new HubClient(server.settings(cache).withTimeout(Duration.ofSeconds(1)));
        long t0 = System.nanoTime();
        HubException e = assertThrows(HubException.class, () -> impatient.resolve(ref));
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "the watchdog ends a stalled read");
        assertTrue(e.getMessage().contains("70000") || e.getMessage().contains("68.4 KiB"), e.getMessage());
        assertArrayEquals(big, Files.readAllBytes(client().resolve(ref)));
        assertEquals("bytes=70000-", server.requests("GET").getLast().range());
    }

    @Test
    void aServerWithoutRangesMakesTheDownloadStartOver() throws IOException {
        HubFileRef ref = HubFileRef.of(REPO, "unet/model.safetensors");
        server.cutNextDownloadAfter(50_000);
        assertThrows(HubException.class, () -> client().resolve(ref));
        server.ignoreRange(true);
        assertArrayEquals(big, Files.readAllBytes(client().resolve(ref)));
    }

    @Test
    void aStalePartThatIsLongerThanTheFileIsDiscarded() throws IOException {
        Path part = repoDir().resolve("blobs").resolve(LoopbackHub.sha256(big) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, new byte[big.length + 10]);
        assertArrayEquals(big, Files.readAllBytes(client().resolve(HubFileRef.of(REPO, "unet/model.safetensors"))));
    }

    @Test
    void aCorruptPartIsFetchedAgainWhole() throws IOException {
        Path part = repoDir().resolve("blobs").resolve(LoopbackHub.sha256(big) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, new byte[1000]); // zeros, not the file's first kilobyte
        assertArrayEquals(big, Files.readAllBytes(client().resolve(HubFileRef.of(REPO, "unet/model.safetensors"))));
        List<LoopbackHub.Request> gets = server.requests("GET");
        assertEquals("bytes=1000-", gets.getFirst().range());
        assertNull(gets.getLast().range());
    }

    @Test
    void aRenamedRepositoryIsFollowedAndCachedUnderTheNameAsked() throws IOException {
        server.rename("old-org/tiny", REPO);
        Path p = client().resolve(HubFileRef.of("old-org/tiny", "config.json"));
        assertEquals(cache.resolve("models--old-org--tiny").resolve("snapshots").resolve(COMMIT).resolve("config.json"), p);
        assertArrayEquals(small, Files.readAllBytes(p));
    }

    @Test
    void theTokenGoesToTheHubButNotToTheCdn() {
        HubSettings s = server.settings(cache);
        HubClient withToken = new HubClient(new HubSettings(s.cacheDir(), s.endpoint(), false, "hf_secret", s.timeout()));
        withToken.resolve(HubFileRef.of(REPO, "unet/model.safetensors"));
        assertTrue(server.requests().stream().filter(r -> r.server().equals("hub")).allMatch(LoopbackHub.Request::authorized));
        assertTrue(server.requests().stream().filter(r -> r.server().equals("cdn")).noneMatch(LoopbackHub.Request::authorized));
        assertFalse(withToken.settings().toString().contains("hf_secret"));
    }

    @Test
    void hubErrorsSayWhatIsMissing() {
        HubException e = assertThrows(HubException.class, () -> client().resolve(HubFileRef.of(REPO, "nope.bin")));
        assertTrue(e.getMessage().contains("no file 'nope.bin'"), e.getMessage());
        assertFalse(e instanceof HubNotCachedException);
        HubException repo = assertThrows(HubException.class,
                () -> client().resolve(HubFileRef.of("sdj-test/other", "x")));
        assertTrue(repo.getMessage().contains("HF_TOKEN"), repo.getMessage());
    }

    @Test
    void aCraftedEtagCannotLeaveTheCache() throws IOException {
        server.etag(REPO, "config.json", "../../../../escaped");
        HubException e = assertThrows(HubException.class, () -> client().resolve(HubFileRef.of(REPO, "config.json")));
        assertTrue(e.getMessage().contains("ETag"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped")));
        assertFalse(Files.exists(cache.resolve("escaped")));
    }

    @Test
    void withoutSymbolicLinksTheSnapshotHoldsTheFile() throws IOException {
        HubClient copies = new HubClient(server.settings(cache), DownloadListener.NONE, false);
        Path p = copies.resolve(HubFileRef.of(REPO, "config.json"));
        assertFalse(Files.isSymbolicLink(p));
        assertArrayEquals(small, Files.readAllBytes(p));
        assertEquals(p, copies.cachedOrDownload(HubFileRef.of(REPO, "config.json"), LoopbackHub.sha256(small)));
    }

    @Test
    void etagsAreNormalizedLikePythons() {
        assertEquals("abc", HubClient.normalizeEtag("\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag(" abc "));
    }
}
