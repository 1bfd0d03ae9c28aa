package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CFloatTest {

    @Test
    void readsTheLeadingNumberLikeStrtof() {
        assertEquals(1.3f, CFloat.parseLeading("1.3"));
        assertEquals(1.2f, CFloat.parseLeading("1.2.3"));
        assertEquals(0.5f, CFloat.parseLeading("+.5"));
        assertEquals(5f, CFloat.parseLeading("5."));
        assertEquals(-2f, CFloat.parseLeading("-2x"));
        assertEquals(7f, CFloat.parseLeading(" \t7"));
        assertEquals(1000f, CFloat.parseLeading("1e3"));
        assertEquals(1f, CFloat.parseLeading("1e"));
        assertEquals(1f, CFloat.parseLeading("1e+"));
        assertEquals(16f, CFloat.parseLeading("0x10"));
        assertEquals(3f, CFloat.parseLeading("0x1.8p1"));
        assertEquals(0f, CFloat.parseLeading("0xg"));
        assertEquals(Float.NEGATIVE_INFINITY, CFloat.parseLeading("-Infinity"));
        assertTrue(Float.isNaN(CFloat.parseLeading("nan")));
    }

    @Test
    void failsWhereStofThrows() {
        assertNull(CFloat.parseLeading("."));
        assertNull(CFloat.parseLeading("+."));
        assertNull(CFloat.parseLeading("abc"));
        assertNull(CFloat.parseLeading(""));
        assertNull(CFloat.parseLeading("1e39"));
        assertNull(CFloat.parseLeading("1e-50"));
        assertEquals(0f, CFloat.parseLeading("0e-50"));
    }
}
