package io.sdj.model;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A JSON value as {@link JsonParser} reads it. Objects keep their key order. */
public sealed interface JsonValue {

    /**
     * A JSON string literal for {@code s}: quotes, backslash and the named control characters escaped as such, other
     * control characters as lower-case six-character unicode escapes, everything else as it is (nlohmann::json's dump style).
     */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }


    /** A short name of the JSON kind ("object", "array", "string", "number", "boolean", "null") for messages. */
    String kind();

    /** A JSON object; keys in document order, no duplicates. */
    record JsonObject(Map<String, JsonValue> members) implements JsonValue {
        public JsonObject {
            members = Collections.unmodifiableMap(new LinkedHashMap<>(members));
        }

        public Optional<JsonValue> get(String key) {
            return Optional.ofNullable(members.get(key));
        }

        @Override
        public String kind() {
            return "object";
        }
    }

    /** A JSON array. */
    record JsonArray(List<JsonValue> elements) implements JsonValue {
        public JsonArray {
            elements = List.copyOf(elements);
        }

        @Override
        public String kind() {
            return "array";
        }
    }

    /** A JSON string, unescaped. */
    record JsonString(String value) implements JsonValue {
        @Override
        public String kind() {
            return "string";
        }
    }

    /** A JSON number, kept as its exact source text. */
    record JsonNumber(String text) implements JsonValue {
        /** The exact value. */
        public BigDecimal decimal() {
            return new BigDecimal(text);
        }

        /** The value as a long if it is an integer written without fraction or exponent and fits; else empty. */
        public Optional<Long> asLong() {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '.' || c == 'e' || c == 'E') {
                    return Optional.empty();
                }
            }
            try {
                return Optional.of(Long.parseLong(text));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        public double doubleValue() {
            return Double.parseDouble(text);
        }

        @Override
        public String kind() {
            return "number";
        }
    }

    /** true or false. */
    record JsonBoolean(boolean value) implements JsonValue {
        @Override
        public String kind() {
            return "boolean";
        }
    }

    /** null. */
    record JsonNull() implements JsonValue {
        @Override
        public String kind() {
            return "null";
        }
    }
}
