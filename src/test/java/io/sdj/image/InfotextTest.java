package io.sdj.image;

import io.sdj.model.JsonParser;
import io.sdj.model.JsonValue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class InfotextTest {

    @Test
    void parsesTheGoldenInfotext() {
        String text = PngInfo.readParameters(
                ImageParametersTest.golden("c03_t2i128_dpmpp2m_karras_s3_cfg7_seed42_neg.png")).orElseThrow();
        Infotext it = Infotext.parse(text);
        assertEquals("a photograph of an astronaut riding a horse", it.prompt());
        assertEquals("blurry", it.negativePrompt());
        assertEquals(List.of("Steps", "CFG scale", "Guidance", "Eta", "Seed", "Size", "Model", "RNG", "Sampler",
                "Version", "SDCPP"), List.copyOf(it.settings().keySet()));
        assertEquals("3", it.get("Steps").orElseThrow());
        assertEquals("dpm++2m karras", it.get("Sampler").orElseThrow());
        assertEquals("128x128", it.get("Size").orElseThrow());
        JsonValue.JsonObject json = assertInstanceOf(JsonValue.JsonObject.class, JsonParser.parse(it.get("SDCPP").orElseThrow()));
        assertEquals(new JsonValue.JsonString("sdcpp.image.params/v1"), json.get("schema").orElseThrow());
    }

    @Test
    void roundTripsMultiLinePromptsAndQuotedValues() {
        String text = "line one\nline two, with: colon\nNegative prompt: bad\nworse\n"
                + "Steps: 4, Skip layers: [7, 8, 9, ], Note: \"a, b\", Sampler: euler, SDCPP: {\"a\":\"}, x\",\"b\":[1,{}]}";
        Infotext it = Infotext.parse(text);
        assertEquals("line one\nline two, with: colon", it.prompt());
        assertEquals("bad\nworse", it.negativePrompt());
        assertEquals("[7, 8, 9, ]", it.get("Skip layers").orElseThrow());
        assertEquals("\"a, b\"", it.get("Note").orElseThrow());
        assertEquals("euler", it.get("Sampler").orElseThrow());
        assertEquals("{\"a\":\"}, x\",\"b\":[1,{}]}", it.get("SDCPP").orElseThrow());
    }

    @Test
    void textWithoutSettingsIsAllPrompt() {
        Infotext it = Infotext.parse("just a prompt");
        assertEquals("just a prompt", it.prompt());
        assertEquals("", it.negativePrompt());
        assertEquals(0, it.settings().size());
    }

    @Test
    void roundTripsWhatImageParametersWrites() {
        ImageParameters p = ImageParameters.builder().prompt("a cat").negativePrompt("dog").steps(9).seed(7)
                .clipSkip(2).build();
        Infotext it = Infotext.parse(p.toInfotext());
        assertEquals("a cat", it.prompt());
        assertEquals("dog", it.negativePrompt());
        assertEquals("9", it.get("Steps").orElseThrow());
        assertEquals("2", it.get("Clip skip").orElseThrow());
        assertEquals("sdj", it.get("Version").orElseThrow());
        assertEquals(p.sdcppJson(), it.get("SDCPP").orElseThrow());
    }
}
