package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a freshly loaded ggml against the headers the bindings were generated from ({@link GgmlExpectations}) and
 * against what sdj's own code hard-codes ({@link GgmlType}'s ids and block sizes, four tensor dimensions), using
 * what the library reports about itself: {@code ggml_type_name}, {@code ggml_blck_size} and {@code ggml_type_size}
 * per type id, {@code ggml_tensor_overhead}, and {@code ggml_version}/{@code ggml_commit} where it has them.
 *
 * <p>Any structural difference is fatal: the bindings would read and write the wrong bytes. A different version
 * with identical structure is fatal too unless {@value #ALLOW_VERSION_PROPERTY} is {@code true}, since the
 * functions' behaviour may differ in ways the sizes do not show.
 */
final class GgmlAbiCheck {
    /** Set to {@code true} to accept a ggml whose version differs from the headers' when everything else matches. */
    static final String ALLOW_VERSION_PROPERTY = "sdj.ggml.allowVersionMismatch";
    /** sizeof(struct ggml_object), the header ggml puts before every tensor in a context (ggml-impl.h). */
    static final long GGML_OBJECT_SIZE = 32;
    /** sdj's tensors address ne[0..3] and nb[0..3]. */
    static final int SDJ_MAX_DIMS = 4;
    /** sdj reads tensor names as 64-byte fields ({@link Tensor}). */
    static final int SDJ_MAX_NAME = 64;

    /** One type as the library describes it. */
    record TypeReport(String name, long blockSize, long typeSize) {
    }

    /** What the loaded library says about itself. */
    record LibraryReport(String version, String commit, Map<Integer, TypeReport> types, long tensorOverhead) {
    }

    private GgmlAbiCheck() {
    }

    /** Throws {@link RuntimeUnavailableException} when the ggml loaded from {@code dir} does not match. */
    static void verify(Path dir, String foundBy) {
        GgmlExpectations expected = GgmlExpectations.load();
        LibraryReport lib = report();
        List<String> problems = differences(expected, lib, ggml_tensor.layout().byteSize());
        boolean versionDiffers = versionDiffers(expected.version(), lib.version());
        if (problems.isEmpty() && !versionDiffers) {
            return;
        }
        if (problems.isEmpty() && Boolean.getBoolean(ALLOW_VERSION_PROPERTY)) {
            org.slf4j.LoggerFactory.getLogger(GgmlAbiCheck.class).warn("ggml {} at {} differs from the headers' {} "
                    + "but matches their layout ({} is set)", lib.version(), dir, expected.version(),
                    ALLOW_VERSION_PROPERTY);
            return;
        }
        throw new RuntimeUnavailableException(message(expected, lib, problems, dir, foundBy));
    }

    static String message(GgmlExpectations expected, LibraryReport lib, List<String> problems, Path dir,
                          String foundBy) {
        StringBuilder m = new StringBuilder("the ggml library in ").append(dir).append(" (").append(foundBy)
                .append(") is ").append(lib.version() == null ? "of unknown version (it has no ggml_version)"
                        : "version " + lib.version())
                .append(lib.commit() == null ? "" : " (commit " + lib.commit() + ")")
                .append(", but sdj's bindings were generated from the headers of ggml ").append(expected.version())
                .append(" (").append(expected.headers()).append(", ").append(expected.source()).append("; record ")
                .append(expected.origin()).append(").");
        if (problems.isEmpty()) {
            m.append(" Their layouts agree, but the versions differ.");
        } else {
            m.append(" They differ:");
            problems.forEach(p -> m.append("\n  - ").append(p));
        }
        m.append("\nUse the ggml the bindings were made for (point SDJ_GGML_PATH / -Dsdj.ggml.path at it, run "
                + "'sdj runtime install', or 'make runtime' in a checkout), or regenerate the bindings from this "
                + "ggml's headers ('make bindings build' with its runtime.env).");
        if (problems.isEmpty()) {
            m.append(" To use it anyway, set -D").append(ALLOW_VERSION_PROPERTY).append("=true.");
        }
        return m.toString();
    }

    /** Versions differ when both are known and not equal. */
    static boolean versionDiffers(String headers, String library) {
        return !"unknown".equals(headers) && library != null && !library.equals(headers);
    }

    /** Every structural difference between the headers' record, sdj's assumptions and the library. */
    static List<String> differences(GgmlExpectations expected, LibraryReport lib, long tensorStructSize) {
        List<String> out = new ArrayList<>();
        Integer dims = expected.constant("GGML_MAX_DIMS");
        if (dims == null || dims != SDJ_MAX_DIMS) {
            out.add("the headers' GGML_MAX_DIMS is " + dims + "; sdj needs " + SDJ_MAX_DIMS);
        }
        Integer name = expected.constant("GGML_MAX_NAME");
        if (name == null || name != SDJ_MAX_NAME) {
            out.add("the headers' GGML_MAX_NAME is " + name + "; sdj reads names of " + SDJ_MAX_NAME + " bytes");
        }
        for (GgmlType t : GgmlType.values()) {
            String constant = "GGML_TYPE_" + t.name();
            Integer id = expected.constant(constant);
            if (id == null) {
                out.add("the headers define no " + constant + " (sdj uses it as id " + t.id() + ")");
                continue;
            }
            if (id != t.id()) {
                out.add("the headers' " + constant + " is " + id + " but sdj uses " + t.id());
            }
            TypeReport r = lib.types().get(t.id());
            if (r == null || r.name() == null || !r.name().toLowerCase(Locale.ROOT).equals(t.cliName())) {
                out.add("the library calls type " + t.id() + " '" + (r == null ? null : r.name()) + "', sdj expects '"
                        + t.cliName() + "'");
                continue;
            }
            if (r.blockSize() != t.blockSize() || r.typeSize() != t.bytesPerBlock()) {
                out.add("the library stores " + t.cliName() + " in blocks of " + r.blockSize() + " elements, "
                        + r.typeSize() + " bytes; sdj expects " + t.blockSize() + " and " + t.bytesPerBlock());
            }
        }
        long expectedOverhead = tensorStructSize + GGML_OBJECT_SIZE;
        if (lib.tensorOverhead() != expectedOverhead) {
            out.add("the library's ggml_tensor_overhead() is " + lib.tensorOverhead() + " bytes; with the headers' "
                    + "struct ggml_tensor of " + tensorStructSize + " bytes it would be " + expectedOverhead);
        }
        return out;
    }

    /** Asks the loaded library about itself. Only ids sdj uses are queried, and only after their name checks. */
    static LibraryReport report() {
        Map<Integer, TypeReport> types = new LinkedHashMap<>();
        for (GgmlType t : GgmlType.values()) {
            String name = ggml_h.ggml_type_name(t.id()).reinterpret(64).getString(0);
            // ggml returns "NONE" for ids past its GGML_TYPE_COUNT; the trait table must not be read there
            boolean known = !name.equals("NONE") && !name.isEmpty();
            types.put(t.id(), new TypeReport(name, known ? ggml_h.ggml_blck_size(t.id()) : -1,
                    known ? ggml_h.ggml_type_size(t.id()) : -1));
        }
        return new LibraryReport(optionalString("ggml_version"), optionalString("ggml_commit"), types,
                ggml_h.ggml_tensor_overhead());
    }

    private static String optionalString(String symbol) {
        if (SymbolLookup.loaderLookup().find(symbol).isEmpty()) {
            return null; // older ggml releases do not export their version
        }
        MemorySegment s = symbol.equals("ggml_version") ? ggml_h.ggml_version() : ggml_h.ggml_commit();
        return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
    }
}
