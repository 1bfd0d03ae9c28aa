package io.sdj.hub;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubSettingsTest {
    static final Path HOME = Path.of("/home/u");

    static HubSettings env(String... kv) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return HubSettings.fromEnvironment(m, HOME);
    }

    @Test
    void theCacheFolderIsFoundAsHuggingfaceHubFindsIt() {
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), env().cacheDir());
        assertEquals(Path.of("/x/huggingface/hub"), env("XDG_CACHE_HOME", "/x").cacheDir());
        assertEquals(Path.of("/h/hub"), env("HF_HOME", "/h", "XDG_CACHE_HOME", "/x").cacheDir());
        assertEquals(Path.of("/home/u/hf/hub"), env("HF_HOME", "~/hf").cacheDir());
        assertEquals(Path.of("/old"), env("HF_HOME", "/h", "HUGGINGFACE_HUB_CACHE", "/old").cacheDir());
        assertEquals(Path.of("/c"), env("HF_HOME", "/h", "HUGGINGFACE_HUB_CACHE", "/old", "HF_HUB_CACHE", "/c").cacheDir());
    }

    @Test
    void offlineModeEndpointAndToken() {
        assertFalse(env().offline());
        for (String v : new String[] {"1", "ON", "yes", "True"}) {
            assertTrue(env("HF_HUB_OFFLINE", v).offline(), v);
        }
        assertFalse(env("HF_HUB_OFFLINE", "0").offline());
        assertTrue(env("TRANSFORMERS_OFFLINE", "1").offline());
        assertEquals(URI.create("https://huggingface.co"), env().endpoint());
        assertEquals(URI.create("http://127.0.0.1:8080/mirror"), env("HF_ENDPOINT", "http://127.0.0.1:8080/mirror/").endpoint());
        assertEquals(URI.create("https://huggingface.co"), env("HF_ENDPOINT", "").endpoint(), "empty means unset");
        assertThrows(InvalidParameterException.class, () -> env("HF_ENDPOINT", "ftp://x"));
        assertThrows(InvalidParameterException.class, () -> env("HF_ENDPOINT", "not a url"));
        assertEquals("t", env("HF_TOKEN", "t").token());
        assertNull(env("HF_TOKEN", " ").token());
        assertEquals("t", env("HF_TOKEN", "t\n").token());
        assertThrows(InvalidParameterException.class, () -> env("HF_TOKEN", "a\nAuthorization: x"));
        assertFalse(env("HF_TOKEN", "secret").toString().contains("secret"));
    }
}
