package io.sdj.hub;

import io.sdj.InvalidParameterException;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where and how hub files are resolved, read from the same environment variables as Python's
 * {@code huggingface_hub}, so that both share one cache:
 * <ul>
 *   <li>cache: {@code HF_HUB_CACHE}, else {@code HUGGINGFACE_HUB_CACHE}, else {@code $HF_HOME/hub}, where
 *       {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface}, and that to {@code ~/.cache/huggingface};</li>
 *   <li>offline mode: {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) set to 1, ON, YES or TRUE;</li>
 *   <li>endpoint: {@code HF_ENDPOINT}, default {@value #DEFAULT_ENDPOINT} (a trailing slash is dropped);</li>
 *   <li>token for gated or private repositories: {@code HF_TOKEN} (sent to the endpoint only, never to a CDN it
 *       redirects to).</li>
 * </ul>
 *
 * @param cacheDir the hub cache folder (holding {@code models--org--name} folders)
 * @param endpoint the hub's base URL, without a trailing slash
 * @param offline  when true no request is made and only cached files resolve
 * @param token    bearer token, or null
 * @param timeout  connect timeout and the time allowed for the hub's answer to a metadata request
 */
public record HubSettings(Path cacheDir, URI endpoint, boolean offline, String token, Duration timeout) {

    /** The public hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** huggingface_hub's default metadata timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    public HubSettings {
        if (cacheDir == null) {
            throw new InvalidParameterException("cacheDir", "must be set");
        }
        endpoint = checkEndpoint(endpoint);
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new InvalidParameterException("timeout", "must be positive, got " + timeout);
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
        if (token != null && !token.strip().chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            throw new InvalidParameterException("HF_TOKEN", "holds characters a token cannot have (spaces, control "
                    + "or non-ASCII characters)");
        }
        if (token != null) {
            token = token.strip();
        }
    }

    /** Settings from this process's environment variables and home folder. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Settings from the given environment variables, with {@code home} standing for {@code ~}. */
    public static HubSettings fromEnvironment(Map<String, String> env, Path home) {
        Path hfHome = path(env.get("HF_HOME"), home);
        if (hfHome == null) {
            Path xdg = path(env.get("XDG_CACHE_HOME"), home);
            hfHome = (xdg != null ? xdg : home.resolve(".cache")).resolve("huggingface");
        }
        Path cache = path(env.get("HF_HUB_CACHE"), home);
        if (cache == null) {
            cache = path(env.get("HUGGINGFACE_HUB_CACHE"), home);
        }
        if (cache == null) {
            cache = hfHome.resolve("hub");
        }
        String offline = env.get("HF_HUB_OFFLINE");
        if (offline == null || offline.isEmpty()) {
            offline = env.get("TRANSFORMERS_OFFLINE");
        }
        String endpoint = env.get("HF_ENDPOINT");
        if (endpoint == null || endpoint.isBlank()) {
            endpoint = DEFAULT_ENDPOINT;
        }
        String token = env.get("HF_TOKEN");
        if (token == null || token.isBlank()) {
            token = env.get("HUGGING_FACE_HUB_TOKEN");
        }
        return new HubSettings(cache, parseEndpoint(endpoint), isTrue(offline), token, DEFAULT_TIMEOUT);
    }

    /** These settings with another cache folder. */
    public HubSettings withCacheDir(Path dir) {
        return new HubSettings(dir, endpoint, offline, token, timeout);
    }

    /** These settings with another endpoint, e.g. {@code http://127.0.0.1:8080} or a mirror. */
    public HubSettings withEndpoint(URI uri) {
        return new HubSettings(cacheDir, uri, offline, token, timeout);
    }

    /** These settings with offline mode on or off. */
    public HubSettings withOffline(boolean off) {
        return new HubSettings(cacheDir, endpoint, off, token, timeout);
    }

    /** These settings with another timeout. */
    public HubSettings withTimeout(Duration t) {
        return new HubSettings(cacheDir, endpoint, offline, token, t);
    }

    /** Never shows the token. */
    @Override
    public String toString() {
        return "HubSettings[cacheDir=" + cacheDir + ", endpoint=" + endpoint + ", offline=" + offline + ", token="
                + (token == null ? "none" : "set") + ", timeout=" + timeout + "]";
    }

    static boolean isTrue(String value) {
        return value != null && TRUE_VALUES.contains(value.strip().toUpperCase(Locale.ROOT));
    }

    private static Path path(String value, Path home) {
        if (value == null || value.isBlank()) {
            return null;
        }
        if (value.equals("~")) {
            return home;
        }
        if (value.startsWith("~/")) {
            return home.resolve(value.substring(2));
        }
        return Path.of(value);
    }

    private static URI parseEndpoint(String value) {
        try {
            return URI.create(value.strip());
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException("HF_ENDPOINT", "not a URL: '" + value + "'");
        }
    }

    private static URI checkEndpoint(URI uri) {
        if (uri == null) {
            throw new InvalidParameterException("HF_ENDPOINT", "must be set");
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || uri.getHost() == null || uri.getQuery() != null || uri.getFragment() != null) {
            throw new InvalidParameterException("HF_ENDPOINT", "must be an http(s) URL like " + DEFAULT_ENDPOINT
                    + ", got '" + uri + "'");
        }
        String s = uri.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return URI.create(s);
    }
}
