package io.sdj.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The hub cache layout of huggingface_hub, so that files fetched by either are found by both:
 * <pre>
 * {cache}/models--{org}--{name}/
 *     blobs/{etag}                      the file contents, named by the hub's ETag
 *     blobs/{etag}.incomplete           a download in progress (resumed from its length)
 *     refs/{revision}                   the commit hash a branch or tag pointed to when last resolved
 *     snapshots/{commit}/{path}         relative symbolic link to ../../blobs/{etag} (a copy where links fail)
 * {cache}/.locks/models--{org}--{name}/{etag}.lock
 * </pre>
 */
final class HubCache {
    private static final Logger LOG = LoggerFactory.getLogger(HubCache.class);
    /** What refs/ files and X-Repo-Commit may hold: a hex commit id. */
    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{7,64}");
    /** ETags that are safe as a file name: hex digests, or the hub's other tokens without path characters. */
    static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,127}");

    private final Path root;
    private volatile boolean symlinks;

    HubCache(Path root, boolean symlinks) {
        this.root = root;
        this.symlinks = symlinks;
    }

    Path root() {
        return root;
    }

    /** {@code models--org--name}, huggingface_hub's folder name for a model repository. */
    static String folderName(String repoId) {
        return "models--" + repoId.replace("/", "--");
    }

    Path repoDir(String repoId) {
        return root.resolve(folderName(repoId));
    }

    Path blob(String repoId, String etag) {
        return repoDir(repoId).resolve("blobs").resolve(etag);
    }

    static Path incomplete(Path blob) {
        return blob.resolveSibling(blob.getFileName() + ".incomplete");
    }

    Path lockFile(String repoId, String etag) {
        return root.resolve(".locks").resolve(folderName(repoId)).resolve(etag + ".lock");
    }

    Path pointer(HubFileRef ref, String commit) {
        Path p = repoDir(ref.repoId()).resolve("snapshots").resolve(commit);
        for (String segment : ref.path().split("/")) {
            p = p.resolve(segment);
        }
        return p;
    }

    /** The commit a revision resolves to without asking the hub: itself if it is a hash, else refs/{revision}. */
    Optional<String> commitOf(HubFileRef ref) {
        if (ref.pinnedToCommit()) {
            return Optional.of(ref.revision());
        }
        Path refFile = refFile(ref);
        if (!Files.isRegularFile(refFile)) {
            return Optional.empty();
        }
        try {
            String commit = Files.readString(refFile, StandardCharsets.UTF_8).strip();
            if (COMMIT.matcher(commit).matches()) {
                return Optional.of(commit);
            }
            LOG.warn("ignoring {}: it does not hold a commit hash", refFile);
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", refFile, e.toString());
        }
        return Optional.empty();
    }

    /** The cached file for a reference, found without asking the hub (huggingface_hub's try_to_load_from_cache). */
    Optional<Path> cached(HubFileRef ref) {
        return commitOf(ref).map(c -> pointer(ref, c)).filter(Files::isRegularFile);
    }

    /** Records which commit a branch or tag points to (nothing for a commit hash, or when it is already recorded). */
    void writeRef(HubFileRef ref, String commit) throws IOException {
        if (ref.revision().equals(commit)) {
            return;
        }
        Path refFile = refFile(ref);
        if (Files.isRegularFile(refFile) && Files.readString(refFile, StandardCharsets.UTF_8).equals(commit)) {
            return;
        }
        Files.createDirectories(refFile.getParent());
        // a sibling with a name of its own (created with the umask's permissions, as Python's are), then renamed
        Path tmp = refFile.resolveSibling("." + refFile.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Thread.currentThread().threadId() + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        Files.move(tmp, refFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path refFile(HubFileRef ref) {
        Path p = repoDir(ref.repoId()).resolve("refs");
        for (String segment : ref.revision().split("/")) {
            p = p.resolve(segment);
        }
        return p;
    }

    /**
     * Makes {@code pointer} show {@code blob}: a relative symbolic link, or where links cannot be made, the blob
     * itself (moved when it is new, copied when other snapshots may use it).
     */
    void link(Path blob, Path pointer, boolean newBlob) throws IOException {
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer);
        if (symlinks) {
            Path target = pointer.getParent().relativize(blob);
            try {
                Files.createSymbolicLink(pointer, target);
                return;
            } catch (FileAlreadyExistsException e) {
                if (Files.isSameFile(pointer, blob)) {
                    return; // made by a concurrent resolve
                }
                throw e;
            } catch (IOException | UnsupportedOperationException e) {
                LOG.warn("cannot make symbolic links in {} ({}); the cache keeps copies instead", root, e.toString());
                symlinks = false;
            }
        }
        if (newBlob) {
            Files.move(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
