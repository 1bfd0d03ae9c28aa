package io.sdj.image;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SdcppJsonTest {

    @Test
    void numbersFollowNlohmannLayout() {
        assertEquals("7.0", SdcppJson.number(7.0));
        assertEquals("0.8999999761581421", SdcppJson.number(0.9f));
        assertEquals("0.20000000298023224", SdcppJson.number(0.2f));
        assertEquals("0.009999999776482582", SdcppJson.number(0.01f));
        assertEquals("0.0001", SdcppJson.number(1e-4));
        assertEquals("1e-05", SdcppJson.number(1e-5));
        assertEquals("1.5e-07", SdcppJson.number(1.5e-7));
        assertEquals("100000000000000.0", SdcppJson.number(1e14));
        assertEquals("1e+15", SdcppJson.number(1e15)); // decimal point at position 16 > digits10
        assertEquals("1e+16", SdcppJson.number(1e16));
        assertEquals("1.25e+20", SdcppJson.number(1.25e20));
        assertEquals("123.456", SdcppJson.number(123.456));
        assertEquals("-2.5", SdcppJson.number(-2.5));
        assertEquals("0.0", SdcppJson.number(0.0));
        assertEquals("-0.0", SdcppJson.number(-0.0));
        assertEquals("null", SdcppJson.number(Double.POSITIVE_INFINITY));
        assertEquals("null", SdcppJson.number(Double.NaN));
    }

    @Test
    void writesNestedValuesCompactly() {
        Map<String, Object> m = new TreeMap<>();
        m.put("b", List.of(1, 2L, 0.5f, true));
        m.put("a", "q\"\\\n\t\u0001é");
        m.put("c", null);
        assertEquals("{\"a\":\"q\\\"\\\\\\n\\t\\u0001é\",\"b\":[1,2,0.5,true],\"c\":null}", SdcppJson.toJson(m));
    }
}
