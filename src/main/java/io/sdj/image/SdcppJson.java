package io.sdj.image;

import io.sdj.model.JsonValue;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * Serialises maps, lists, strings, numbers and booleans to compact JSON the way nlohmann::json's {@code dump()} does
 * (sd.cpp's metadata writer): object keys sorted, doubles in their shortest round-trip form with the layout rules of
 * nlohmann's dtoa ("7.0", "0.8999999761581421", "1e-05"), non-finite doubles as {@code null}, control characters
 * escaped as six-character unicode escapes in lower-case hex, other characters unescaped.
 */
final class SdcppJson {
    private SdcppJson() {
    }

    /** Appends a value: Map (keys sorted by the caller, e.g. TreeMap), List, String, Boolean, Integer, Long, Float, Double or null. */
    static void write(StringBuilder sb, Object v) {
        switch (v) {
            case null -> sb.append("null");
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    string(sb, (String) e.getKey());
                    sb.append(':');
                    write(sb, e.getValue());
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    write(sb, l.get(i));
                }
                sb.append(']');
            }
            case String s -> string(sb, s);
            case Boolean b -> sb.append(b);
            case Integer i -> sb.append(i);
            case Long l -> sb.append(l);
            case Float f -> sb.append(number(f.doubleValue()));
            case Double d -> sb.append(number(d));
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    static String toJson(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    /** A double as nlohmann::json writes it. */
    static String number(double d) {
        if (!Double.isFinite(d)) {
            return "null";
        }
        if (d == 0) {
            return (Double.doubleToRawLongBits(d) < 0 ? "-" : "") + "0.0";
        }
        String sign = d < 0 ? "-" : "";
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int k = digits.length();
        int n = k - bd.scale(); // value = 0.digits × 10^n
        StringBuilder sb = new StringBuilder(sign);
        if (k <= n && n <= 15) {
            sb.append(digits).append("0".repeat(n - k)).append(".0");
        } else if (0 < n && n <= 15) {
            sb.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-4 < n && n <= 0) {
            sb.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            sb.append(digits.charAt(0));
            if (k > 1) {
                sb.append('.').append(digits, 1, k);
            }
            int e = n - 1;
            sb.append('e').append(e < 0 ? '-' : '+');
            int abs = Math.abs(e);
            if (abs < 10) {
                sb.append('0');
            }
            sb.append(abs);
        }
        return sb.toString();
    }

    static void string(StringBuilder sb, String s) {
        sb.append(JsonValue.quote(s));
    }
}
