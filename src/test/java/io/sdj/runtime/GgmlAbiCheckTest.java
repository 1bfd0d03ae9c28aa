package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The comparison of a library's self-description with the headers' record (no native code involved). */
class GgmlAbiCheckTest {
    private static final long TENSOR = 336;

    private static GgmlExpectations expectations(String extra) throws Exception {
        StringBuilder p = new StringBuilder("ggml.version=0.27.0\nggml.headers=/h\nggml.source=prefix\nGGML_MAX_DIMS=4\nGGML_MAX_NAME=64\n");
        for (GgmlType t : GgmlType.values()) {
            p.append("GGML_TYPE_").append(t.name()).append('=').append(t.id()).append('\n');
        }
        p.append(extra);
        return GgmlExpectations.parse(new StringReader(p.toString()), "test");
    }

    /** A library that describes exactly what sdj expects. */
    private static Map<Integer, GgmlAbiCheck.TypeReport> matchingTypes() {
        Map<Integer, GgmlAbiCheck.TypeReport> m = new LinkedHashMap<>();
        for (GgmlType t : GgmlType.values()) {
            String name = t.cliName().endsWith("_k") ? t.cliName().replace("_k", "_K") : t.cliName();
            m.put(t.id(), new GgmlAbiCheck.TypeReport(name, t.blockSize(), t.bytesPerBlock()));
        }
        return m;
    }

    @Test
    void matchingLibraryHasNoDifferences() throws Exception {
        var lib = new GgmlAbiCheck.LibraryReport("0.27.0", "abc", matchingTypes(), TENSOR + 32);
        assertEquals(List.of(), GgmlAbiCheck.differences(expectations(""), lib, TENSOR));
        assertFalse(GgmlAbiCheck.versionDiffers("0.27.0", "0.27.0"));
        assertFalse(GgmlAbiCheck.versionDiffers("unknown", "0.9.5"), "an unknown header version cannot differ");
        assertFalse(GgmlAbiCheck.versionDiffers("0.27.0", null), "a library without ggml_version cannot differ");
        assertTrue(GgmlAbiCheck.versionDiffers("0.27.0", "0.9.5"));
    }

    @Test
    void renumberedTypeIsReported() throws Exception {
        Map<Integer, GgmlAbiCheck.TypeReport> types = matchingTypes();
        types.put(8, new GgmlAbiCheck.TypeReport("q8_1", 32, 36)); // the library's id 8 is another type
        var lib = new GgmlAbiCheck.LibraryReport("0.30.0", null, types, TENSOR + 32);
        List<String> d = GgmlAbiCheck.differences(expectations("GGML_TYPE_Q8_0=9\n"), lib, TENSOR);
        assertEquals(2, d.size(), d.toString());
        assertTrue(d.get(0).contains("GGML_TYPE_Q8_0 is 9 but sdj uses 8"), d.get(0));
        assertTrue(d.get(1).contains("calls type 8 'q8_1'"), d.get(1));
    }

    @Test
    void blockSizesAndTensorSizeAreCompared() throws Exception {
        Map<Integer, GgmlAbiCheck.TypeReport> types = matchingTypes();
        types.put(2, new GgmlAbiCheck.TypeReport("q4_0", 32, 20));
        types.put(30, new GgmlAbiCheck.TypeReport("NONE", -1, -1)); // an older ggml without bf16
        var lib = new GgmlAbiCheck.LibraryReport("0.27.0", null, types, TENSOR + 32 + 8);
        List<String> d = GgmlAbiCheck.differences(expectations("GGML_MAX_DIMS=5\nGGML_MAX_NAME=128\n"), lib, TENSOR);
        assertEquals(5, d.size(), d.toString());
        assertTrue(d.get(0).contains("GGML_MAX_DIMS is 5"), d.get(0));
        assertTrue(d.get(1).contains("GGML_MAX_NAME is 128"), d.get(1));
        assertTrue(d.get(2).contains("q4_0 in blocks of 32 elements, 20 bytes; sdj expects 32 and 18"), d.get(2));
        assertTrue(d.get(3).contains("calls type 30 'NONE'"), d.get(3));
        assertTrue(d.get(4).contains("ggml_tensor_overhead() is 376"), d.get(4));
    }

    @Test
    void messageNamesBothVersionsAndWhatToDo() throws Exception {
        var lib = new GgmlAbiCheck.LibraryReport("0.30.0", "deadbee", matchingTypes(), TENSOR + 32);
        String m = GgmlAbiCheck.message(expectations(""), lib, List.of(), Path.of("/opt/ggml/lib"), "explicit setting");
        assertTrue(m.contains("/opt/ggml/lib"), m);
        assertTrue(m.contains("version 0.30.0 (commit deadbee)"), m);
        assertTrue(m.contains("headers of ggml 0.27.0"), m);
        assertTrue(m.contains("sdj runtime install") && m.contains("make bindings build"), m);
        assertTrue(m.contains(GgmlAbiCheck.ALLOW_VERSION_PROPERTY), "a layout-compatible ggml may be allowed: " + m);
        String structural = GgmlAbiCheck.message(expectations(""), lib, List.of("x differs"), Path.of("/l"), "w");
        assertTrue(structural.contains("x differs") && !structural.contains(GgmlAbiCheck.ALLOW_VERSION_PROPERTY),
                structural);
    }

    @Test
    void badRecordIsATypedError() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeUnavailableException.class,
                () -> GgmlExpectations.parse(new StringReader("GGML_MAX_DIMS=four\n"), "fake.properties"));
        assertTrue(e.getMessage().contains("fake.properties") && e.getMessage().contains("GGML_MAX_DIMS"),
                e.getMessage());
    }
}
