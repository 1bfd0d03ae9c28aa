package io.sdj.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Names the files of a batch the way sd-cli does from its {@code -o} argument:
 * <ul>
 *   <li>a printf-style {@code %d} (optionally with up to three width/flag digits, e.g. {@code %03d}; {@code %%} is a
 *       literal percent sign) is replaced by the image index, starting at --output-begin-idx (default 0), for every
 *       image, even a single one;</li>
 *   <li>otherwise one image is written to the name as given and a batch of n to {@code BASE_i.EXT} for
 *       i = begin … begin + n − 1 ({@code output.png} → {@code output_0.png}, {@code output_1.png});</li>
 *   <li>a name whose extension is not an image format sdj writes (.png, .jpg, .jpeg, .jpe, any case) gets
 *       {@code .png} appended ({@code out} → {@code out.png}, {@code out.bmp} → {@code out.bmp.png}).</li>
 * </ul>
 */
public final class OutputNames {

    /** The file format an output name selects. */
    public enum Format { PNG, JPEG }

    private OutputNames() {
    }

    /**
     * The output file names for a batch.
     *
     * @param output     the -o argument
     * @param count      images in the batch (≥ 1)
     * @param beginIndex --output-begin-idx, or negative for the default (0)
     */
    public static List<String> names(String output, int count, int beginIndex) {
        int begin = Math.max(0, beginIndex);
        int nameStart = Math.max(output.lastIndexOf('/'), output.lastIndexOf('\\')) + 1;
        String fileName = output.substring(nameStart);
        int dot = fileName.lastIndexOf('.');
        // like std::filesystem: a leading dot (".hidden") starts no extension
        String ext = dot > 0 ? fileName.substring(dot) : "";
        String base = output;
        if (formatOfExtension(ext) != null) {
            base = output.substring(0, output.length() - ext.length());
        } else {
            ext = ".png";
        }
        List<String> names = new ArrayList<>(count);
        if (hasIndexSpecifier(output)) {
            String pattern = base + ext;
            for (int i = 0; i < count; i++) {
                names.add(formatIndex(pattern, begin + i));
            }
        } else {
            for (int i = 0; i < count; i++) {
                names.add(count > 1 ? base + "_" + (begin + i) + ext : base + ext);
            }
        }
        return names;
    }

    /** The format a (final) output name is written in. */
    public static Format formatOf(String name) {
        int nameStart = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1;
        int dot = name.lastIndexOf('.');
        Format f = dot > nameStart ? formatOfExtension(name.substring(dot)) : null;
        return f == null ? Format.PNG : f;
    }

    private static Format formatOfExtension(String ext) {
        return switch (ext.toLowerCase(Locale.ROOT)) {
            case ".png" -> Format.PNG;
            case ".jpg", ".jpeg", ".jpe" -> Format.JPEG;
            default -> null;
        };
    }

    /** True when the name holds a {@code %d}-style specifier that is not part of a {@code %%} escape. */
    static boolean hasIndexSpecifier(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) != '%') {
                continue;
            }
            if (i + 1 < s.length() && s.charAt(i + 1) == '%') {
                i++;
                continue;
            }
            if (specifierEnd(s, i) > 0) {
                return true;
            }
        }
        return false;
    }

    /** Index just past a specifier {@code %[0-9]{0,3}d} starting at {@code at}, or -1. */
    private static int specifierEnd(String s, int at) {
        int j = at + 1;
        while (j < s.length() && j - at - 1 < 3 && Character.isDigit(s.charAt(j))) {
            j++;
        }
        return j < s.length() && s.charAt(j) == 'd' ? j + 1 : -1;
    }

    /** C's printf of {@code %<digits>d}: leading zeros mean zero padding, the rest is the minimum width. */
    private static String printfInt(String digits, int value) {
        int k = 0;
        while (k < digits.length() && digits.charAt(k) == '0') {
            k++;
        }
        String width = digits.substring(k);
        if (width.isEmpty()) {
            return Integer.toString(value);
        }
        return String.format(Locale.ROOT, "%" + (k > 0 ? "0" : "") + width + "d", value);
    }

    /** Replaces every {@code %d}-style specifier by {@code index} (printf semantics) and {@code %%} by {@code %}. */
    static String formatIndex(String pattern, int index) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '%') {
                out.append('%');
                i++;
                continue;
            }
            int end = specifierEnd(pattern, i);
            if (end < 0) {
                out.append(c);
                continue;
            }
            out.append(printfInt(pattern.substring(i + 1, end - 1), index));
            i = end - 1;
        }
        return out.toString();
    }
}
