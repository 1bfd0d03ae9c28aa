package io.sdj.hub;

import io.sdj.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves files of Hugging Face model repositories to local paths the way {@code huggingface_hub}'s
 * {@code hf_hub_download} does, in the same cache ({@link HubSettings}, layout in {@link HubCache}).
 *
 * <p>{@link #resolve} asks the hub first: a {@code HEAD} of {@code {endpoint}/{repo}/resolve/{revision}/{path}}
 * gives the commit ({@code X-Repo-Commit}), the content's ETag ({@code X-Linked-Etag}, else {@code ETag}) and size
 * ({@code X-Linked-Size}, else {@code Content-Length}). Redirects within the endpoint (a renamed repository) are
 * followed; a redirect elsewhere (the CDN holding LFS files) becomes the download address, fetched without the
 * token. A file already cached under that commit or ETag is returned at once; otherwise it is downloaded into
 * {@code blobs/{etag}.incomplete}, resuming with an HTTP {@code Range} request where an earlier download stopped,
 * checked against the ETag (SHA-256 for LFS files, git blob id otherwise) and an optional pinned SHA-256, then moved
 * to {@code blobs/{etag}} and linked from {@code snapshots/{commit}/{path}}. When the hub cannot be reached, or in
 * offline mode, the file cached for the revision is used ({@link HubNotCachedException} if there is none).
 *
 * <p>{@link #cachedOrDownload} looks in the cache first and only asks the hub for files that are not there, which
 * suits files pinned by checksum. Progress goes to the {@link DownloadListener} and to SLF4J (info per file,
 * debug per 10%). Instances are immutable and thread-safe; concurrent downloads of one blob, in this JVM or
 * another sdj process, wait for each other on a lock file.
 */
public final class HubClient {
    private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);
    private static final int MAX_REDIRECTS = 10;
    private static final int BUFFER = 1 << 16;
    private static final long REPORT_BYTES = 1 << 20;
    private static final String USER_AGENT = "sdj/0.1; java/" + Runtime.version().feature();
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");
    private static final ConcurrentHashMap<Path, ReentrantLock> BLOB_LOCKS = new ConcurrentHashMap<>();

    private final HubSettings settings;
    private final DownloadListener listener;
    private final HubCache cache;
    private final boolean symlinks;

    /** A client with the given settings and no progress listener. */
    public HubClient(HubSettings settings) {
        this(settings, DownloadListener.NONE);
    }

    /** A client with the given settings reporting downloads to {@code listener}. */
    public HubClient(HubSettings settings, DownloadListener listener) {
        this(settings, listener, true);
    }

    /** {@code symlinks} false makes snapshots hold copies, as on file systems without links. */
    HubClient(HubSettings settings, DownloadListener listener, boolean symlinks) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.listener = listener == null ? DownloadListener.NONE : listener;
        this.cache = new HubCache(settings.cacheDir(), symlinks);
        this.symlinks = symlinks;
    }

    /** A client configured from the environment ({@link HubSettings#fromEnvironment()}). */
    public static HubClient fromEnvironment() {
        return new HubClient(HubSettings.fromEnvironment());
    }

    public HubSettings settings() {
        return settings;
    }

    /** The same client reporting to another listener. */
    public HubClient withListener(DownloadListener other) {
        return new HubClient(settings, other, symlinks);
    }

    /** The cached file for {@code ref} at its revision, found without any request. */
    public Optional<Path> cached(HubFileRef ref) {
        return cache.cached(ref);
    }

    /** {@link #resolve(HubFileRef, String)} without a pinned checksum. */
    public Path resolve(HubFileRef ref) {
        return resolve(ref, null);
    }

    /**
     * The local path of a hub file, asking the hub for the revision's current commit first (see the class comment).
     *
     * @param pinnedSha256 the SHA-256 the content must have (64 hex digits), or null
     * @throws HubNotCachedException if the hub cannot be asked (offline, unreachable) and the file is not cached
     * @throws HubChecksumException  if the content does not match its ETag or the pin
     * @throws HubException          for an error answer of the hub, an interrupted download or a cache write error
     */
    public Path resolve(HubFileRef ref, String pinnedSha256) {
        String pin = checkPin(pinnedSha256);
        if (ref.pinnedToCommit()) {
            Optional<Path> hit = cache.cached(ref);
            if (hit.isPresent()) {
                return verifyCached(ref, hit.get(), pin);
            }
        }
        if (settings.offline()) {
            return fromCache(ref, pin, null);
        }
        try (HttpClient http = newHttpClient()) {
            Metadata meta;
            try {
                meta = head(http, ref);
            } catch (IOException e) {
                LOG.warn("cannot reach {} for {}: {}; looking in the cache", settings.endpoint(), ref, e.toString());
                return fromCache(ref, pin, e);
            }
            return store(http, ref, meta, pin);
        } catch (IOException e) {
            throw new HubException("cannot write the hub cache " + settings.cacheDir() + " for " + ref + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while resolving " + ref, e);
        }
    }

    /**
     * The cached file if there is one (checked against the pin, without any request), else {@link #resolve}.
     *
     * @throws HubChecksumException if the cached file does not match the pin (the message says to delete it)
     */
    public Path cachedOrDownload(HubFileRef ref, String pinnedSha256) {
        String pin = checkPin(pinnedSha256);
        Optional<Path> hit = cache.cached(ref);
        if (hit.isPresent()) {
            LOG.debug("{} found in the cache: {}", ref, hit.get());
            return verifyCached(ref, hit.get(), pin);
        }
        return resolve(ref, pin);
    }

    private Path fromCache(HubFileRef ref, String pin, IOException cause) {
        Optional<Path> hit = cache.cached(ref);
        if (hit.isEmpty()) {
            throw new HubNotCachedException(ref, settings, cause);
        }
        LOG.info("{}: using the cached {}", ref, hit.get());
        return verifyCached(ref, hit.get(), pin);
    }

    private Path verifyCached(HubFileRef ref, Path file, String pin) {
        if (pin == null) {
            return file;
        }
        try {
            String actual = FileDigests.of(file).sha256();
            if (!actual.equals(pin)) {
                throw new HubChecksumException("cached " + ref + " is not the expected file (delete it, or the "
                        + "snapshot folder, to download it again)", file, "SHA-256", pin, actual);
            }
            return file;
        } catch (IOException e) {
            throw new HubException("cannot read the cached " + file + ": " + e, e);
        }
    }

    /** The hub's answer about a file: the commit, the ETag, the size if known and where to download it. */
    record Metadata(String commit, String etag, long size, URI download) {
    }

    private Metadata head(HttpClient http, HubFileRef ref) throws IOException, InterruptedException {
        URI uri = ref.url(settings.endpoint());
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest request = request(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(settings.timeout()).build();
            HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            HttpHeaders h = response.headers();
            if (isRedirect(status)) {
                URI next = location(uri, h, ref);
                if (sameOrigin(next, uri)) {
                    LOG.debug("{}: {} redirects to {}", ref, uri, next);
                    uri = next;
                    continue;
                }
                return metadata(ref, h, false, next);
            }
            checkStatus(status, h, ref, uri);
            return metadata(ref, h, true, uri);
        }
        throw new HubException(ref + ": more than " + MAX_REDIRECTS + " redirects from " + settings.endpoint());
    }

    private Metadata metadata(HubFileRef ref, HttpHeaders h, boolean direct, URI download) {
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        if (commit == null) {
            throw new HubException(ref + ": the answer of " + settings.endpoint() + " has no X-Repo-Commit header "
                    + "(is HF_ENDPOINT a Hugging Face hub?)");
        }
        commit = commit.strip();
        if (!HubCache.COMMIT.matcher(commit).matches()) {
            throw new HubException(ref + ": X-Repo-Commit '" + abbreviate(commit) + "' is not a commit hash");
        }
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null);
        if (etag == null) {
            throw new HubException(ref + ": the hub sent no ETag, so the download could not be checked");
        }
        etag = normalizeEtag(etag);
        if (!HubCache.ETAG.matcher(etag).matches()) {
            throw new HubException(ref + ": ETag '" + abbreviate(etag) + "' cannot name a cache file");
        }
        long size = parseSize(h.firstValue("X-Linked-Size").orElse(null));
        if (size < 0 && direct) {
            size = parseSize(h.firstValue("Content-Length").orElse(null));
        }
        return new Metadata(commit, etag, size, download);
    }

    /** {@code W/"abc"} and {@code "abc"} become {@code abc}. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    private Path store(HttpClient http, HubFileRef ref, Metadata meta, String pin)
            throws IOException, InterruptedException {
        cache.writeRef(ref, meta.commit());
        Path pointer = cache.pointer(ref, meta.commit());
        if (Files.isRegularFile(pointer)) {
            return verifyCached(ref, pointer, pin);
        }
        Path blob = cache.blob(ref.repoId(), meta.etag());
        ReentrantLock local = BLOB_LOCKS.computeIfAbsent(blob.toAbsolutePath().normalize(), k -> new ReentrantLock());
        local.lockInterruptibly();
        Path lockFile = cache.lockFile(ref.repoId(), meta.etag());
        Files.createDirectories(lockFile.getParent());
        try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockChannel.lock()) {
            if (Files.isRegularFile(pointer)) {
                return verifyCached(ref, pointer, pin);
            }
            if (Files.isRegularFile(blob)) {
                verifyCached(ref, blob, pin);
                cache.link(blob, pointer, false);
                return pointer;
            }
            Files.createDirectories(blob.getParent());
            download(http, ref, meta, HubCache.incomplete(blob), pin);
            Files.move(HubCache.incomplete(blob), blob, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            cache.link(blob, pointer, true);
            return pointer;
        } finally {
            local.unlock();
        }
    }

    /** Downloads (or completes) {@code part}, then checks it; a resumed part that fails is fetched once more whole. */
    private void download(HttpClient http, HubFileRef ref, Metadata meta, Path part, String pin)
            throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            long start = Files.isRegularFile(part) ? Files.size(part) : 0;
            if (meta.size() >= 0 && start > meta.size()) {
                Files.delete(part);
                start = 0;
            }
            long total = start > 0 && start == meta.size() ? start : fetch(http, ref, meta, part, start);
            FileDigests digests = FileDigests.of(part);
            String problem = checkContent(ref, meta, part, pin, digests);
            if (problem == null) {
                listener.onProgress(new DownloadProgress(ref, total, total, start, true));
                return;
            }
            Files.deleteIfExists(part);
            if (start == 0 || attempt > 0) {
                throw mismatch(ref, meta, part, pin, digests);
            }
            LOG.warn("{}: the resumed download does not match its checksum ({}); downloading it again", ref, problem);
        }
    }

    /** Null when the content matches the ETag and the pin, else a short description. */
    private static String checkContent(HubFileRef ref, Metadata meta, Path part, String pin, FileDigests d) {
        BlobCheck check = BlobCheck.fromEtag(meta.etag());
        String problem = switch (check) {
            case BlobCheck.Sha256 s -> s.hex().equals(d.sha256()) ? null : "SHA-256 " + d.sha256();
            case BlobCheck.GitBlob g -> g.hex().equals(d.gitBlob()) ? null : "git blob id " + d.gitBlob();
            case BlobCheck.Unchecked u -> {
                LOG.debug("{}: ETag {} is not a digest; content checked by size only", ref, meta.etag());
                yield null;
            }
        };
        if (problem == null && pin != null && !pin.equals(d.sha256())) {
            problem = "SHA-256 " + d.sha256() + " (pinned " + pin + ")";
        }
        return problem;
    }

    private static HubChecksumException mismatch(HubFileRef ref, Metadata meta, Path part, String pin, FileDigests d) {
        BlobCheck check = BlobCheck.fromEtag(meta.etag());
        String what = "download of " + ref + " is corrupt and was deleted";
        if (check instanceof BlobCheck.Sha256 s && !s.hex().equals(d.sha256())) {
            return new HubChecksumException(what, part, "SHA-256", s.hex() + " (the hub's ETag)", d.sha256());
        }
        if (check instanceof BlobCheck.GitBlob g && !g.hex().equals(d.gitBlob())) {
            return new HubChecksumException(what, part, "git blob id", g.hex() + " (the hub's ETag)", d.gitBlob());
        }
        return new HubChecksumException("download of " + ref + " is not the pinned file and was deleted", part,
                "SHA-256", pin, d.sha256());
    }

    /** One GET into {@code part} from byte {@code start}; returns the file's total size. */
    private long fetch(HttpClient http, HubFileRef ref, Metadata meta, Path part, long start)
            throws IOException, InterruptedException {
        URI uri = meta.download();
        HttpResponse<InputStream> response = null;
        for (int hop = 0; hop <= MAX_REDIRECTS && response == null; hop++) {
            HttpRequest.Builder b = request(uri).GET().timeout(settings.timeout());
            if (start > 0) {
                b.header("Range", "bytes=" + start + "-");
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new HubException("download of " + ref + " from " + uri.getHost() + " failed: " + e
                        + (start > 0 ? "; the part in " + part + " is kept and the next attempt resumes it" : ""), e);
            }
            if (isRedirect(r.statusCode())) {
                r.body().close();
                uri = location(uri, r.headers(), ref);
                continue;
            }
            response = r;
        }
        if (response == null) {
            throw new HubException(ref + ": more than " + MAX_REDIRECTS + " redirects while downloading");
        }
        int status = response.statusCode();
        HttpHeaders h = response.headers();
        long offset;
        long total;
        if (status == 206 && start > 0) {
            Matcher m = CONTENT_RANGE.matcher(h.firstValue("Content-Range").orElse(""));
            if (!m.matches() || Long.parseLong(m.group(1)) != start) {
                response.body().close();
                throw new HubException(ref + ": the server answered the resume request for byte " + start
                        + " with Content-Range '" + abbreviate(h.firstValue("Content-Range").orElse("")) + "'");
            }
            offset = start;
            total = m.group(3).equals("*") ? meta.size() : Long.parseLong(m.group(3));
            LOG.info("resuming {} at byte {}", ref, start);
        } else if (status == 416 && start > 0) {
            response.body().close();
            LOG.warn("{}: the server refused to resume at byte {}; starting over", ref, start);
            Files.deleteIfExists(part);
            return fetch(http, ref, meta, part, 0);
        } else {
            checkStatus(status, h, ref, uri);
            if (start > 0) {
                LOG.info("{}: the server does not resume downloads; starting over", ref);
            }
            offset = 0;
            long length = parseSize(h.firstValue("Content-Length").orElse(null));
            total = meta.size() >= 0 ? meta.size() : length;
        }
        if (meta.size() >= 0 && total != meta.size()) {
            response.body().close();
            throw new HubException(ref + ": the download has " + total + " bytes but the hub announced "
                    + meta.size());
        }
        return copy(ref, response.body(), part, offset, total);
    }

    private long copy(HubFileRef ref, InputStream body, Path part, long offset, long total) throws IOException {
        LOG.info("downloading {} ({}) from {}", ref, total >= 0 ? formatBytes(total) : "size unknown",
                settings.endpoint().getHost());
        listener.onProgress(new DownloadProgress(ref, offset, total, offset, false));
        long t0 = System.nanoTime();
        AtomicLong lastData = new AtomicLong(t0);
        long stallNanos = settings.timeout().toNanos() * 3;
        Thread watchdog = Thread.ofVirtual().unstarted(() -> watch(body, lastData, stallNanos));
        long written = offset;
        StandardOpenOption mode = offset > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        try (InputStream in = body;
             FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
            watchdog.start();
            byte[] buf = new byte[BUFFER];
            long reported = written;
            long step = Math.max(REPORT_BYTES, total / 100);
            int decile = total > 0 ? (int) (written * 10 / total) : 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                lastData.set(System.nanoTime());
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
                written += n;
                if (total >= 0 && written > total) {
                    throw new HubException(ref + ": the server sent more than the announced " + total + " bytes");
                }
                if (written - reported >= step) {
                    reported = written;
                    listener.onProgress(new DownloadProgress(ref, written, total, offset, false));
                }
                if (total > 0 && written * 10 / total > decile) {
                    decile = (int) (written * 10 / total);
                    LOG.debug("{}: {}%", ref, decile * 10);
                }
            }
        } catch (IOException e) {
            throw interrupted(ref, part, written, total, e);
        } finally {
            watchdog.interrupt();
        }
        if (total >= 0 && written != total) {
            throw interrupted(ref, part, written, total, null);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info("downloaded {}: {} in {} s", ref, formatBytes(written - offset),
                String.format(Locale.ROOT, "%.1f", seconds));
        return written;
    }

    /** Closes the body when no data came for {@code stallNanos}, which ends a read that would hang. */
    private static void watch(InputStream body, AtomicLong lastData, long stallNanos) {
        try {
            while (true) {
                Thread.sleep(Math.max(1, Math.min(1000, stallNanos / 1_000_000 / 4)));
                if (System.nanoTime() - lastData.get() > stallNanos) {
                    LOG.warn("no data for {} s; closing the download", stallNanos / 1_000_000_000);
                    body.close();
                    return;
                }
            }
        } catch (InterruptedException | IOException e) {
            // the download finished (or the close failed, and the read ends by itself)
        }
    }

    private HubException interrupted(HubFileRef ref, Path part, long written, long total, IOException cause) {
        String why = cause == null ? "the connection closed early"
                : cause instanceof InterruptedIOException ? "timed out" : cause.toString();
        return new HubException("download of " + ref + " stopped after " + formatBytes(written)
                + (total >= 0 ? " of " + formatBytes(total) : "") + " (" + why + "); the part is kept in " + part
                + " and the next attempt resumes it", cause);
    }

    private HttpClient newHttpClient() {
        HttpClient.Builder b = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(settings.timeout());
        if ("http".equalsIgnoreCase(settings.endpoint().getScheme())) {
            b.version(HttpClient.Version.HTTP_1_1);
        }
        return b.build();
    }

    /** A request with the hub's headers; the token only goes to the endpoint's origin. */
    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity");
        if (settings.token() != null && sameOrigin(uri, settings.endpoint())) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return b;
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI location(URI from, HttpHeaders h, HubFileRef ref) {
        String loc = h.firstValue("Location").orElseThrow(
                () -> new HubException(ref + ": redirect from " + from + " without a Location header"));
        try {
            URI next = from.resolve(loc.strip());
            String scheme = next.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
                throw new HubException(ref + ": redirect to a non-HTTP address '" + abbreviate(loc) + "'");
            }
            return next;
        } catch (IllegalArgumentException e) {
            throw new HubException(ref + ": redirect to a malformed address '" + abbreviate(loc) + "'", e);
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Turns an error answer into a message that says what is missing and what to do. */
    private void checkStatus(int status, HttpHeaders h, HubFileRef ref, URI uri) {
        if (status >= 200 && status < 300) {
            return;
        }
        String code = h.firstValue("X-Error-Code").orElse("");
        String detail = h.firstValue("X-Error-Message").map(m -> " (" + abbreviate(m) + ")").orElse("");
        String message = switch (code) {
            case "EntryNotFound" -> "no file '" + ref.path() + "' in " + ref.repoId() + " at revision "
                    + ref.revision();
            case "RevisionNotFound" -> "no revision '" + ref.revision() + "' in " + ref.repoId();
            case "RepoNotFound" -> "no repository " + ref.repoId() + " (or it is private: set HF_TOKEN)";
            case "GatedRepo" -> ref.repoId() + " is gated: accept its terms on the hub and set HF_TOKEN";
            default -> switch (status) {
                case 401, 403 -> "access to " + ref.repoId() + " denied (HTTP " + status + "; private or gated: "
                        + "set HF_TOKEN)";
                case 404 -> "not found on the hub (HTTP 404): check the repository, revision and path";
                default -> "the hub answered HTTP " + status + " for " + uri;
            };
        };
        throw new HubException(ref + ": " + message + detail);
    }

    private static long parseSize(String v) {
        if (v == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(v.strip());
            return n >= 0 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String checkPin(String pin) {
        if (pin == null) {
            return null;
        }
        if (!BlobCheck.HEX64.matcher(pin).matches()) {
            throw new InvalidParameterException("pinnedSha256", "must be 64 hex digits, got '" + abbreviate(pin) + "'");
        }
        return pin.toLowerCase(Locale.ROOT);
    }

    static String formatBytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("[\\p{Cntrl}]", "?");
        return one.length() <= 120 ? one : one.substring(0, 117) + "...";
    }
}
