package io.sdj.hub;

import io.sdj.InvalidParameterException;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * One file of a Hugging Face model repository at a revision: {@code hf://org/name/path/to/file}, or
 * {@code hf://org/name@revision/path/to/file} (a revision holding {@code /}, such as {@code refs/pr/1}, is written
 * percent-encoded: {@code @refs%2Fpr%2F1}). Values are checked so that none can leave the cache folder: repository
 * names as the hub allows them, no empty, {@code .} or {@code ..} path segments, no backslashes.
 *
 * @param repoId   {@code org/name} (or a bare {@code name} for the few legacy repositories)
 * @param revision branch, tag or commit hash; {@value #DEFAULT_REVISION} by default
 * @param path     the file's path inside the repository, {@code /}-separated
 */
public record HubFileRef(String repoId, String revision, String path) {

    /** The URI scheme of model references. */
    public static final String SCHEME = "hf://";
    /** The revision used when none is given. */
    public static final String DEFAULT_REVISION = "main";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,95}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public HubFileRef {
        repoId = checkRepoId(repoId);
        revision = checkRevision(revision == null || revision.isEmpty() ? DEFAULT_REVISION : revision);
        path = checkPath(path);
    }

    /** A file at the default revision. */
    public static HubFileRef of(String repoId, String path) {
        return new HubFileRef(repoId, DEFAULT_REVISION, path);
    }

    /** True when {@code text} is written as a hub reference ({@code hf://...}). */
    public static boolean isReference(String text) {
        return text != null && text.regionMatches(true, 0, SCHEME, 0, SCHEME.length());
    }

    /**
     * Parses {@code hf://org/name[@revision]/path/to/file}.
     *
     * @throws InvalidParameterException naming what is missing or not allowed
     */
    public static HubFileRef parse(String reference) {
        if (!isReference(reference)) {
            throw new InvalidParameterException("model", "'" + reference + "' is not a hub reference ("
                    + SCHEME + "org/name/path/to/file)");
        }
        String rest = reference.substring(SCHEME.length());
        String[] parts = rest.split("/", 3);
        if (parts.length < 3 || parts[2].isEmpty()) {
            throw new InvalidParameterException("model", "'" + reference + "' needs an organisation, a repository and "
                    + "a file: " + SCHEME + "org/name/path/to/file (e.g. " + SCHEME
                    + "openai/clip-vit-large-patch14/merges.txt)");
        }
        if (parts[0].equals("datasets") || parts[0].equals("spaces")) {
            throw new InvalidParameterException("model", "'" + reference + "': only model repositories are supported");
        }
        String name = parts[1];
        String revision = DEFAULT_REVISION;
        int at = name.indexOf('@');
        if (at >= 0) {
            revision = URLDecoder.decode(name.substring(at + 1), StandardCharsets.UTF_8);
            name = name.substring(0, at);
            if (revision.isEmpty()) {
                throw new InvalidParameterException("model", "'" + reference + "': empty revision after '@'");
            }
        }
        return new HubFileRef(parts[0] + "/" + name, revision, parts[2]);
    }

    /** True when the revision is a full commit hash (its snapshot never changes). */
    public boolean pinnedToCommit() {
        return COMMIT.matcher(revision).matches();
    }

    /** The same file at another revision. */
    public HubFileRef at(String otherRevision) {
        return new HubFileRef(repoId, otherRevision, path);
    }

    /** The file's name (last path segment). */
    public String fileName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** {@code {endpoint}/{repo}/resolve/{revision}/{path}}, percent-encoded the way huggingface_hub encodes it. */
    public URI url(URI endpoint) {
        StringBuilder sb = new StringBuilder(endpoint.toString()).append('/').append(repoId).append("/resolve/");
        encode(revision, false, sb);
        sb.append('/');
        encode(path, true, sb);
        return URI.create(sb.toString());
    }

    @Override
    public String toString() {
        return SCHEME + repoId + (revision.equals(DEFAULT_REVISION) ? "" : "@" + revision.replace("/", "%2F")) + "/"
                + path;
    }

    private static void encode(String s, boolean keepSlash, StringBuilder out) {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || (keepSlash && c == '/');
            if (plain) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
    }

    private static String checkRepoId(String id) {
        if (id == null) {
            throw new InvalidParameterException("repoId", "must be set (org/name)");
        }
        String[] parts = id.split("/", -1);
        if (parts.length > 2 || id.contains("--") || id.contains("..")) {
            throw new InvalidParameterException("repoId", "'" + id + "' is not a hub repository id (org/name, letters, "
                    + "digits, '-', '_', '.', no '--' or '..')");
        }
        for (String p : parts) {
            if (!NAME.matcher(p).matches() || p.endsWith(".") || p.endsWith("-")) {
                throw new InvalidParameterException("repoId", "'" + id + "' is not a hub repository id (org/name, "
                        + "letters, digits, '-', '_', '.', at most 96 characters each)");
            }
        }
        return id;
    }

    private static String checkRevision(String rev) {
        if (rev.startsWith("/") || rev.endsWith("/") || rev.length() > 255) {
            throw new InvalidParameterException("revision", "'" + rev + "' is not a branch, tag or commit");
        }
        for (String seg : rev.split("/", -1)) {
            checkSegment("revision", rev, seg);
        }
        return rev;
    }

    private static String checkPath(String p) {
        if (p == null || p.isEmpty()) {
            throw new InvalidParameterException("path", "must name a file in the repository");
        }
        if (p.startsWith("/") || p.endsWith("/")) {
            throw new InvalidParameterException("path", "'" + p + "' must be a relative file path (no leading or "
                    + "trailing '/')");
        }
        for (String seg : p.split("/", -1)) {
            checkSegment("path", p, seg);
        }
        return p;
    }

    private static void checkSegment(String what, String whole, String seg) {
        if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
            throw new InvalidParameterException(what, "'" + whole + "' has an empty, '.' or '..' segment");
        }
        for (int i = 0; i < seg.length(); i++) {
            char c = seg.charAt(i);
            if (c < 0x20 || c == 0x7F || c == '\\' || (c == ':' && what.equals("revision"))) {
                throw new InvalidParameterException(what, "'" + whole + "' holds a character that is not allowed ("
                        + (c < 0x20 || c == 0x7F ? "control character" : "'" + c + "'") + ")");
            }
        }
    }
}
