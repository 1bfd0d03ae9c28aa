package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonParserTest {

    @Test
    void parsesAllKindsAndKeepsKeyOrder() {
        JsonValue v = JsonParser.parse(" {\"b\":[1,-2.5e3,true,false,null],\"a\":\"x\\n\\u00e9\\ud83d\\ude00\\/\",\"c\":{}} ");
        JsonValue.JsonObject o = assertInstanceOf(JsonValue.JsonObject.class, v);
        assertEquals(List.of("b", "a", "c"), List.copyOf(o.members().keySet()));
        JsonValue.JsonArray arr = assertInstanceOf(JsonValue.JsonArray.class, o.members().get("b"));
        assertEquals(1L, ((JsonValue.JsonNumber) arr.elements().get(0)).asLong().orElseThrow());
        assertEquals(-2500.0, ((JsonValue.JsonNumber) arr.elements().get(1)).doubleValue());
        assertTrue(((JsonValue.JsonNumber) arr.elements().get(1)).asLong().isEmpty());
        assertEquals(new JsonValue.JsonBoolean(true), arr.elements().get(2));
        assertEquals(new JsonValue.JsonNull(), arr.elements().get(4));
        assertEquals("x\n\u00e9\ud83d\ude00/", ((JsonValue.JsonString) o.members().get("a")).value());
    }

    @Test
    void hugeIntegerIsNotALong() {
        JsonValue.JsonNumber n = (JsonValue.JsonNumber) JsonParser.parse("99999999999999999999");
        assertTrue(n.asLong().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e", "+1", "'x'", "\"abc",
        "\"a\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "\"tab\there\"", "tru", "nul", "{} x", "[1 2]",
        "{\"a\":1,\"a\":2}", "NaN", "Infinity"
    })
    void rejectsMalformedJson(String text) {
        JsonParser.JsonSyntaxException e = assertThrows(JsonParser.JsonSyntaxException.class, () -> JsonParser.parse(text));
        assertTrue(e.getMessage().startsWith("JSON syntax error at character "), e.getMessage());
    }

    @Test
    void duplicateKeyIsNamed() {
        var e = assertThrows(JsonParser.JsonSyntaxException.class, () -> JsonParser.parse("{\"k\":1,\"k\":2}"));
        assertTrue(e.getMessage().contains("duplicate key \"k\""), e.getMessage());
        assertEquals(7, e.position());
    }

    @Test
    void rejectsExcessiveNesting() {
        String deep = "[".repeat(JsonParser.MAX_DEPTH + 2) + "]".repeat(JsonParser.MAX_DEPTH + 2);
        var e = assertThrows(JsonParser.JsonSyntaxException.class, () -> JsonParser.parse(deep));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
        JsonParser.parse("[".repeat(100) + "]".repeat(100));
    }
}
