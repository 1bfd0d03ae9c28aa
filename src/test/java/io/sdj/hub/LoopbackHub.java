package io.sdj.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test support: a Hugging Face hub on loopback (127.0.0.1, a free port) that answers in the hub's URL shape and with
 * its headers. {@code HEAD}/{@code GET /{org}/{name}/resolve/{revision}/{path}} gives {@code X-Repo-Commit} and, for a
 * file kept in git, {@code ETag: "<git blob id>"} and the content; for an LFS file a 302 to a second loopback server
 * (the "CDN", another origin) with {@code X-Linked-Etag: "<sha256>"} and {@code X-Linked-Size}. Both serve byte
 * ranges ({@code Range: bytes=N-} gives 206, past the end 416). Faults can be injected: a download cut off after some
 * bytes, content that does not match its ETag, an ignored Range header, a renamed repository (a relative redirect),
 * a crafted ETag. Every request is recorded.
 */
public final class LoopbackHub implements AutoCloseable {
    /** The commit every repository is at. */
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** One recorded request. */
    public record Request(String server, String method, String path, String range, boolean authorized) {
    }

    private record Entry(byte[] content, boolean lfs, String etag) {
    }

    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Entry> files = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger cutAfter = new AtomicInteger(-1);
    private final AtomicInteger stallAfter = new AtomicInteger(-1);
    private final CountDownLatch closing = new CountDownLatch(1);
    private final ExecutorService handlers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "loopback-hub");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean ignoreRange;

    public LoopbackHub() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::hubRequest);
        cdn.createContext("/", this::cdnRequest);
        hub.setExecutor(handlers);
        cdn.setExecutor(handlers);
        hub.start();
        cdn.start();
    }

    /** The hub's base URL, for {@link HubSettings#withEndpoint}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    /** Settings that use this hub and a cache in {@code cacheDir}. */
    public HubSettings settings(Path cacheDir) {
        return new HubSettings(cacheDir, endpoint(), false, null, Duration.ofSeconds(5));
    }

    /** Publishes a file kept in git (ETag = git blob id). */
    public LoopbackHub gitFile(String repo, String path, byte[] content) {
        files.put(repo + "/" + path, new Entry(content, false, gitBlobId(content)));
        return this;
    }

    /** Publishes an LFS file (served by the CDN; X-Linked-Etag = SHA-256). */
    public LoopbackHub lfsFile(String repo, String path, byte[] content) {
        String sha = sha256(content);
        files.put(repo + "/" + path, new Entry(content, true, sha));
        blobs.put(sha, content);
        return this;
    }

    /** Serves {@code content} for a published file while keeping its ETag: a corrupt download. */
    public LoopbackHub corrupt(String repo, String path, byte[] content) {
        Entry e = files.get(repo + "/" + path);
        files.put(repo + "/" + path, new Entry(content, e.lfs(), e.etag()));
        if (e.lfs()) {
            blobs.put(e.etag(), content);
        }
        return this;
    }

    /** Answers for a file with this ETag (a crafted one, say). */
    public LoopbackHub etag(String repo, String path, String etag) {
        Entry e = files.get(repo + "/" + path);
        files.put(repo + "/" + path, new Entry(e.content(), e.lfs(), etag));
        return this;
    }

    /** Requests for {@code oldRepo} get a relative redirect to {@code newRepo}, as after a rename. */
    public LoopbackHub rename(String oldRepo, String newRepo) {
        renamed.put(oldRepo, newRepo);
        return this;
    }

    /** The next content GET sends its headers and {@code bytes} bytes, then drops the connection. */
    public LoopbackHub cutNextDownloadAfter(int bytes) {
        cutAfter.set(bytes);
        return this;
    }

    /** The next content GET sends {@code bytes} bytes, then sends nothing more until the server is closed. */
    public LoopbackHub stallNextDownloadAfter(int bytes) {
        stallAfter.set(bytes);
        return this;
    }

    /** Range headers are ignored (whole file, 200), as by a server without range support. */
    public LoopbackHub ignoreRange(boolean v) {
        ignoreRange = v;
        return this;
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public void clearRequests() {
        requests.clear();
    }

    @Override
    public void close() {
        closing.countDown();
        hub.stop(0);
        cdn.stop(0);
        handlers.shutdownNow();
    }

    private void hubRequest(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            record(ex, "hub");
            Matcher m = RESOLVE.matcher(path);
            Headers h = ex.getResponseHeaders();
            if (!m.matches()) {
                h.set("X-Error-Code", "RepoNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String repo = m.group(1);
            String target = renamed.get(repo);
            if (target != null) {
                h.set("Location", "/" + target + "/resolve/" + m.group(2) + "/" + m.group(3));
                ex.sendResponseHeaders(307, -1);
                return;
            }
            String file = java.net.URLDecoder.decode(m.group(3), StandardCharsets.UTF_8);
            Entry e = files.get(repo + "/" + file);
            h.set("X-Repo-Commit", COMMIT);
            if (e == null && files.keySet().stream().noneMatch(k -> k.startsWith(repo + "/"))) {
                h.remove("X-Repo-Commit");
                h.set("X-Error-Code", "RepoNotFound");
                ex.sendResponseHeaders(401, -1);
                return;
            }
            if (e == null) {
                h.set("X-Error-Code", "EntryNotFound");
                h.set("X-Error-Message", "Entry not found");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (e.lfs()) {
                h.set("X-Linked-Etag", "\"" + e.etag() + "\"");
                h.set("X-Linked-Size", Integer.toString(e.content().length));
                h.set("ETag", "\"" + gitBlobId(("version https://git-lfs.github.com/spec/v1\noid sha256:" + e.etag())
                        .getBytes(StandardCharsets.UTF_8)) + "\"");
                h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + e.etag());
                ex.sendResponseHeaders(302, -1);
                return;
            }
            h.set("ETag", "\"" + e.etag() + "\"");
            serve(ex, e.content());
        }
    }

    private void cdnRequest(HttpExchange ex) throws IOException {
        try (ex) {
            record(ex, "cdn");
            String path = ex.getRequestURI().getRawPath();
            byte[] content = path.startsWith("/blobs/") ? blobs.get(path.substring("/blobs/".length())) : null;
            if (content == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            serve(ex, content);
        }
    }

    private void serve(HttpExchange ex, byte[] content) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Accept-Ranges", "bytes");
        if (ex.getRequestMethod().equals("HEAD")) {
            h.set("Content-Length", Integer.toString(content.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        int status = 200;
        if (range != null && !ignoreRange) {
            Matcher r = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (!r.matches()) {
                ex.sendResponseHeaders(400, -1);
                return;
            }
            from = Integer.parseInt(r.group(1));
            if (from >= content.length) {
                h.set("Content-Range", "bytes */" + content.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            status = 206;
            h.set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        int length = content.length - from;
        int cut = cutAfter.getAndSet(-1);
        int stall = stallAfter.getAndSet(-1);
        ex.sendResponseHeaders(status, length);
        OutputStream out = ex.getResponseBody();
        if (stall >= 0 && stall < length) {
            out.write(content, from, stall);
            out.flush();
            try {
                closing.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("LoopbackHub: stalled download ended");
        }
        if (cut >= 0 && cut < length) {
            out.write(content, from, cut);
            out.flush();
            // a handler that fails makes the server drop the connection, short of the announced length
            throw new IOException("LoopbackHub: connection cut after " + cut + " bytes, as asked");
        }
        out.write(content, from, length);
    }

    private void record(HttpExchange ex, String server) {
        Headers q = ex.getRequestHeaders();
        requests.add(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(), q.getFirst("Range"),
                q.containsKey("Authorization")));
    }

    /** Requests made to either server, of one method. */
    public List<Request> requests(String method) {
        List<Request> out = new ArrayList<>();
        for (Request r : requests) {
            if (r.method().equals(method)) {
                out.add(r);
            }
        }
        return out;
    }

    public static String sha256(byte[] content) {
        return hex("SHA-256", new byte[0], content);
    }

    public static String gitBlobId(byte[] content) {
        return hex("SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII), content);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] content) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            md.update(prefix);
            return HexFormat.of().formatHex(md.digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
