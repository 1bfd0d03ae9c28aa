package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraTagTest {

    @Test
    void removesTagsAndListsThem() {
        LoraTag.Extraction e = LoraTag.extract("a cat <lora:foo:0.8> sitting<lora:dir/bar.safetensors:-1>");
        assertEquals("a cat  sitting", e.prompt());
        assertEquals(List.of(new LoraTag("foo", 0.8f, false), new LoraTag("dir/bar.safetensors", -1f, false)),
                e.tags());
    }

    @Test
    void highNoisePrefixRepeatsAndOddMultipliers() {
        LoraTag.Extraction e = LoraTag.extract("<lora:|high_noise|wan:1>x<lora:foo:0.5><lora:foo: 0.25>");
        assertEquals("x", e.prompt());
        assertEquals(List.of(new LoraTag("wan", 1f, true), new LoraTag("foo", 0.5f, false),
                new LoraTag("foo", 0.25f, false)), e.tags());
        LoraTag.Extraction bad = LoraTag.extract("a <lora:bad:abc>b");
        assertEquals("a b", bad.prompt());
        assertEquals(List.of(), bad.tags());
    }

    @Test
    void promptWithoutTagsIsUnchanged() {
        assertEquals(new LoraTag.Extraction(" a <lora:> (b:1.2) ", List.of()),
                LoraTag.extract(" a <lora:> (b:1.2) "));
    }
}
