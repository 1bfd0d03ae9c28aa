package io.sdj.image;

import io.sdj.model.GoldenModel;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ImageParametersTest {

    static Path golden(String file) {
        return GoldenModel.sharedDir().resolve("golden").resolve(file);
    }

    private static ImageParameters.Builder sdcpp() {
        return ImageParameters.builder()
                .generator(ImageParameters.Generator.STABLE_DIFFUSION_CPP)
                .model("sd15_random_seed1.safetensors");
    }

    private static void assertSameAsGolden(String file, ImageParameters params) {
        String expected = PngInfo.readParameters(golden(file)).orElseThrow();
        assertEquals(expected, params.toInfotext(), file);
    }

    @Test
    void reproducesSdCliTextForTxt2img() {
        assertSameAsGolden("c01_t2i64_eulera_discrete_s2_cfg7_seed42.png", sdcpp()
                .prompt("a lovely cat").size(64, 64).sampleMethod("euler_a").scheduler("discrete").steps(2)
                .cfgScale(7).seed(42).build());
    }

    @Test
    void reproducesSdCliTextWithNegativePromptAndKarras() {
        assertSameAsGolden("c03_t2i128_dpmpp2m_karras_s3_cfg7_seed42_neg.png", sdcpp()
                .prompt("a photograph of an astronaut riding a horse").negativePrompt("blurry").size(128, 128)
                .sampleMethod("dpm++2m").scheduler("karras").steps(3).cfgScale(7).seed(42).build());
    }

    @Test
    void reproducesSdCliTextForCfgOneAndLcm() {
        assertSameAsGolden("c04_t2i64_lcm_discrete_s4_cfg1_seed42.png", sdcpp()
                .prompt("a lovely cat").size(64, 64).sampleMethod("lcm").scheduler("discrete").steps(4)
                .cfgScale(1).seed(42).build());
    }

    @Test
    void reproducesSdCliTextForCpuRng() {
        assertSameAsGolden("c06_t2i64_eulera_discrete_s2_cfg7_seed42_rngcpu.png", sdcpp()
                .prompt("a lovely cat").size(64, 64).steps(2).cfgScale(7).seed(42).rng("cpu").build());
    }

    @Test
    void reproducesSdCliTextForImg2imgStrength() {
        assertSameAsGolden("c09_i2i128_euler_discrete_s4_cfg7_seed42_str0.6.png", sdcpp()
                .prompt("a lovely cat").size(128, 128).sampleMethod("euler").scheduler("discrete").steps(4)
                .cfgScale(7).seed(42).strength(0.6f).build());
    }

    @Test
    void reproducesSdCliTextForClipSkip() {
        assertSameAsGolden("c10_t2i64_eulera_discrete_s2_cfg7_seed42_clipskip2.png", sdcpp()
                .prompt("a lovely cat").size(64, 64).steps(2).cfgScale(7).seed(42).clipSkip(2).build());
    }

    @Test
    void optionalFieldsAppearInSdCliOrder() {
        String text = ImageParameters.builder().prompt("p").model("/models/x/m.safetensors").vae("C:\\vae\\v.safetensors")
                .samplerRng("cpu").scheduler(null).clipSkip(1).eta(0.5f).seed(-3).build().toInfotext();
        String line = text.substring(text.indexOf('\n') + 1);
        assertEquals("Steps: 20, CFG scale: 7.000000, Guidance: 3.500000, Eta: 0.500000, Seed: -3, Size: 512x512, "
                + "Model: m.safetensors, RNG: cuda, Sampler RNG: cpu, Sampler: euler_a, VAE: v.safetensors, Clip skip: 1, "
                + "Version: sdj, SDCPP: ", line.substring(0, line.indexOf("SDCPP: ") + 7));
        String json = line.substring(line.indexOf("SDCPP: ") + 7);
        assertEquals(true, json.contains("\"models\":{\"model\":\"m.safetensors\",\"vae\":\"v.safetensors\"}"), json);
        assertEquals(true, json.contains("\"sampler_rng\":\"cpu\""), json);
        assertEquals(true, json.contains("\"eta\":0.5,"), json);
        assertEquals(false, json.contains("\"scheduler\""), json);
    }

    @Test
    void formatsFloatsLikeCPrintf() {
        assertEquals("7.000000", ImageParameters.cFixed(7f));
        assertEquals("inf", ImageParameters.cFixed(Float.POSITIVE_INFINITY));
        assertEquals("-inf", ImageParameters.cFixed(Float.NEGATIVE_INFINITY));
        assertEquals("nan", ImageParameters.cFixed(Float.NaN));
        assertEquals("0.600000", ImageParameters.cFixed(0.6f));
        assertEquals("-0.000000", ImageParameters.cFixed(-0.0f));
        assertEquals("-0.000000", ImageParameters.cFixed(-1e-9f));
        assertEquals("0.000001", ImageParameters.cFixed(1e-6f)); // 9.99999997e-07 rounds up
        assertEquals("1234567.000000", ImageParameters.cFixed(1234567f));
        assertEquals("0.125000", ImageParameters.cFixed(0.125f));
    }

    @Test
    void baseNameSplitsOnBothSeparators() {
        assertEquals("m.safetensors", ImageParameters.baseName("a/b\\m.safetensors"));
        assertEquals("m", ImageParameters.baseName("m"));
    }

    @Test
    void rejectsImpossibleSettings() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> ImageParameters.builder().steps(0).build());
        assertEquals("steps", e.parameter());
        assertThrows(InvalidParameterException.class, () -> ImageParameters.builder().size(0, 64).build());
    }
}
