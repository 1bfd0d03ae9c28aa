package io.sdj.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareCommandTest {

    @Test
    void substitutesTheCase() {
        EndToEndOptions o = EndToEndOptions.parse("--model", "/m/it's.safetensors", "--prompt", "a 'quoted' cat",
                "--steps", "4", "--cfg", "7", "--threads", "2");
        CompareCommand c = new CompareCommand("sd-cli -m {model} -p {prompt} -W {width} -H {height} --steps {steps} "
                + "--sampling-method {sampler} --cfg-scale {cfg} -s {seed} -t {threads} --type {type}");
        assertTrue(c.perType());
        assertEquals("sd-cli -m '/m/it'\\''s.safetensors' -p 'a '\\''quoted'\\'' cat' -W 256 -H 256 --steps 4 "
                        + "--sampling-method euler_a --cfg-scale 7 -s 42 -t 2 --type q4_0",
                c.expand(o, new Configuration("q4_0", "cpu")));
        assertFalse(new CompareCommand("sd-cli -m {model}").perType());
    }

    @Test
    void fractionalCfgIsWrittenAsIs() {
        EndToEndOptions o = EndToEndOptions.parse("--cfg", "4.5");
        assertEquals("x 4.5", new CompareCommand("x {cfg}").expand(o, null));
    }
}
