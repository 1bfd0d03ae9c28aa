package io.sdj.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputNamesTest {

    @Test
    void oneImageKeepsTheName() {
        assertEquals(List.of("output.png"), OutputNames.names("output.png", 1, -1));
        assertEquals(List.of("out/cat.png"), OutputNames.names("out/cat.png", 1, 7));
    }

    @Test
    void aBatchGetsAnIndexBeforeTheExtension() {
        assertEquals(List.of("output_0.png", "output_1.png"), OutputNames.names("output.png", 2, -1));
        assertEquals(List.of("o_5.png", "o_6.png", "o_7.png"), OutputNames.names("o.png", 3, 5));
        assertEquals(List.of("x_0.JPG", "x_1.JPG"), OutputNames.names("x.JPG", 2, -1));
    }

    @Test
    void namesWithoutAnImageExtensionGetPng() {
        assertEquals(List.of("out.png"), OutputNames.names("out", 1, -1));
        assertEquals(List.of("out_0.png", "out_1.png"), OutputNames.names("out", 2, -1));
        assertEquals(List.of("out.bmp.png"), OutputNames.names("out.bmp", 1, -1));
        assertEquals(List.of("run.v1/out.png"), OutputNames.names("run.v1/out", 1, -1));
        assertEquals(List.of(".hidden.png"), OutputNames.names(".hidden", 1, -1));
    }

    @Test
    void aPrintfIndexNumbersEveryImage() {
        assertEquals(List.of("img_000.png"), OutputNames.names("img_%03d.png", 1, -1));
        assertEquals(List.of("img_001.png", "img_002.png"), OutputNames.names("img_%03d.png", 2, 1));
        assertEquals(List.of("a7.png"), OutputNames.names("a%d", 1, 7));
        assertEquals(List.of("a    7.png"), OutputNames.names("a%5d.png", 1, 7));
        assertEquals(List.of("a7.png"), OutputNames.names("a%0d.png", 1, 7));
        assertEquals(List.of("100%_3.png"), OutputNames.names("100%%_%d.png", 1, 3));
    }

    @Test
    void escapedPercentIsNoIndex() {
        assertFalse(OutputNames.hasIndexSpecifier("a%%d.png"));
        assertTrue(OutputNames.hasIndexSpecifier("a%%%d.png"));
        assertFalse(OutputNames.hasIndexSpecifier("a%1234d.png"));
        assertFalse(OutputNames.hasIndexSpecifier("a%s.png"));
        // as sd-cli: without an index the name is used as given, %% included
        assertEquals(List.of("a%%d_0.png", "a%%d_1.png"), OutputNames.names("a%%d.png", 2, -1));
    }

    @Test
    void formatFollowsTheExtension() {
        assertEquals(OutputNames.Format.PNG, OutputNames.formatOf("a.png"));
        assertEquals(OutputNames.Format.JPEG, OutputNames.formatOf("a.jpg"));
        assertEquals(OutputNames.Format.JPEG, OutputNames.formatOf("a.JPEG"));
        assertEquals(OutputNames.Format.JPEG, OutputNames.formatOf("a.jpe"));
        assertEquals(OutputNames.Format.PNG, OutputNames.formatOf("dir.jpg/a.png"));
    }
}
