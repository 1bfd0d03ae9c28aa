package io.sdj.text;

/**
 * Parses the longest leading number of a string the way C's {@code strtof} does, so that weights and multipliers
 * read from a prompt round exactly as sd.cpp's {@code std::stof} rounds them: leading C white space, optional sign,
 * decimal digits with optional point and exponent, hexadecimal {@code 0x…[p…]}, {@code inf}, {@code infinity},
 * {@code nan}. Text after the number is ignored.
 */
final class CFloat {
    private CFloat() {
    }

    /**
     * The value of the leading number of {@code s}, or {@code null} where {@code std::stof} would throw: nothing
     * converts, or the value is outside float's range (overflow, or underflow of a non-zero value).
     */
    static Float parseLeading(String s) {
        int n = s.length();
        int i = 0;
        while (i < n && isCSpace(s.charAt(i))) {
            i++;
        }
        int signStart = i;
        boolean negative = false;
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        if (startsWithIgnoreCase(s, i, "infinity") || startsWithIgnoreCase(s, i, "inf")) {
            return negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        }
        if (startsWithIgnoreCase(s, i, "nan")) {
            return Float.NaN;
        }
        if (i + 2 < n && s.charAt(i) == '0' && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')) {
            Float hex = hex(s, i + 2, negative);
            if (hex != null) {
                return hex;
            }
        }
        int mantissaStart = i;
        boolean nonZeroDigit = false;
        int digits = 0;
        while (i < n && isDigit(s.charAt(i))) {
            nonZeroDigit |= s.charAt(i) != '0';
            digits++;
            i++;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(s.charAt(i))) {
                nonZeroDigit |= s.charAt(i) != '0';
                digits++;
                i++;
            }
        }
        if (digits == 0) {
            return null;
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            if (j < n && isDigit(s.charAt(j))) {
                while (j < n && isDigit(s.charAt(j))) {
                    j++;
                }
                i = j;
            }
        }
        float value = Float.parseFloat(s.substring(signStart, i));
        return inRange(value, nonZeroDigit) ? value : null;
    }

    private static Float hex(String s, int i, boolean negative) {
        int n = s.length();
        StringBuilder mantissa = new StringBuilder();
        boolean nonZeroDigit = false;
        int digits = 0;
        while (i < n && Character.digit(s.charAt(i), 16) >= 0 && s.charAt(i) < 0x80) {
            nonZeroDigit |= s.charAt(i) != '0';
            mantissa.append(s.charAt(i++));
            digits++;
        }
        if (i < n && s.charAt(i) == '.') {
            mantissa.append('.');
            i++;
            while (i < n && Character.digit(s.charAt(i), 16) >= 0 && s.charAt(i) < 0x80) {
                nonZeroDigit |= s.charAt(i) != '0';
                mantissa.append(s.charAt(i++));
                digits++;
            }
        }
        if (digits == 0) {
            return null; // "0x" without hex digits: strtof reads just the "0"
        }
        String exponent = "0";
        if (i < n && (s.charAt(i) == 'p' || s.charAt(i) == 'P')) {
            int j = i + 1;
            if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            if (j < n && isDigit(s.charAt(j))) {
                while (j < n && isDigit(s.charAt(j))) {
                    j++;
                }
                exponent = s.substring(i + 1, j);
            }
        }
        float value = Float.parseFloat((negative ? "-" : "") + "0x" + mantissa + "p" + exponent);
        return inRange(value, nonZeroDigit) ? value : null;
    }

    private static boolean inRange(float value, boolean nonZeroDigit) {
        if (Float.isInfinite(value)) {
            return false;
        }
        return !nonZeroDigit || Math.abs(value) >= Float.MIN_NORMAL;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** C-locale {@code isspace}: space, \t, \n, \v, \f, \r. */
    static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    private static boolean startsWithIgnoreCase(String s, int at, String word) {
        return s.regionMatches(true, at, word, 0, word.length());
    }
}
