package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.adapters.LoraApplyMode;
import io.sdj.model.DType;
import io.sdj.model.GoldenModel;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.SafetensorsWriter;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static io.sdj.pipeline.LoraPipelineTest.diff;
import static io.sdj.pipeline.LoraPipelineTest.pixels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --diffusion-conv-type end to end on a tiny SD1-shaped model: quantized U-Net kernels (held as matrices, run as
 * im2col and a matrix product) make the weights smaller and the image stays close to the F16 one; a LoCon LoRA on
 * such a kernel works merged and at run time; --tensor-type-rules changes the types of the tensors it matches.
 */
class QuantizedConvolutionTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path locon;
    static ModelConfig config;
    static int[] f16Image;
    static long f16Bytes;

    static final String CONV = "model.diffusion_model.input_blocks.1.0.in_layers.2.weight";

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny.safetensors");
        config = TinySd15Writer.writeDefault(model);
        long[] w = LdmLayout.expectedTensors(config).get(CONV); // [OC, IC, 3, 3]
        int oc = (int) w[0];
        int ic = (int) w[1];
        int rank = 2;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] down = new float[rank * ic * 9];
        float[] up = new float[oc * rank];
        for (int i = 0; i < down.length; i++) {
            down[i] = (float) rnd.nextDouble(-1, 1) / (float) Math.sqrt(ic * 9.0);
        }
        for (int i = 0; i < up.length; i++) {
            up[i] = (float) rnd.nextDouble(-1.5, 1.5);
        }
        SafetensorsWriter lw = new SafetensorsWriter();
        String key = "lora_unet_down_blocks_0_resnets_0_conv1";
        lw.addFloats(key + ".lora_down.weight", DType.F16, new long[]{rank, ic, 3, 3}, down);
        lw.addFloats(key + ".lora_up.weight", DType.F16, new long[]{oc, rank, 1, 1}, up);
        lw.addFloats(key + ".alpha", DType.F32, new long[]{}, new float[]{rank});
        locon = dir.resolve("locon.safetensors");
        lw.write(locon);
        try (StableDiffusion sd = load(null, LoraApplyMode.AUTO)) {
            f16Image = pixels(sd.generate(small().build()));
            f16Bytes = sd.weightBytes();
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static StableDiffusion load(GgmlType convType, LoraApplyMode mode) {
        return StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu").threads(2)
                .diffusionConvType(convType).loraApplyMode(mode).build();
    }

    static GenerationRequest.Builder small() {
        return GenerationRequest.builder("a lovely cat").size(64, 64).steps(2).seed(42);
    }

    /** Bytes the U-Net's kernels save as {@code type}: the kernels whose KW·KH·IC fits its block. */
    static long savedBytes(GgmlType type) {
        long saved = 0;
        for (Map.Entry<String, long[]> e : LdmLayout.expectedTensors(config).entrySet()) {
            long[] s = e.getValue();
            if (s.length == 4 && e.getKey().startsWith("model.diffusion_model.") && (s[1] * s[2] * s[3]) % type.blockSize() == 0) {
                long n = s[0] * s[1] * s[2] * s[3];
                saved += 2 * n - type.rowBytes(s[1] * s[2] * s[3]) * s[0];
            }
        }
        return saved;
    }

    @Test
    void quantizedKernelsShrinkTheUNetAndKeepTheImageClose() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0}) {
            try (StableDiffusion sd = load(type, LoraApplyMode.AUTO)) {
                int[] img = pixels(sd.generate(small().build()));
                double[] d = diff(img, f16Image);
                System.out.printf("--diffusion-conv-type %s vs f16: mean %.3f/255, max %.0f; weights %d -> %d bytes%n",
                        type.cliName(), d[0], d[1], f16Bytes, sd.weightBytes());
                assertWeightBytes(f16Bytes - savedBytes(type), sd.weightBytes());
                assertTrue(savedBytes(type) > 0);
                assertTrue(d[0] > 0, type + ": quantized kernels must change the image");
                // a tiny random U-Net amplifies weight error (q8_0 --type moves it by about as much)
                assertTrue(d[0] < (type == GgmlType.Q8_0 ? 6.0 : 20.0), type + ": mean " + d[0]);
            }
        }
    }

    /** BF16 kernels (which ggml's im2col cannot take: it would abort) run through the matrix product too. */
    @Test
    void bf16KernelsRunAsMatrices() {
        try (StableDiffusion sd = load(GgmlType.BF16, LoraApplyMode.AUTO)) {
            double[] d = diff(pixels(sd.generate(small().build())), f16Image);
            assertTrue(d[0] < 6.0, "bf16 kernels: mean " + d[0]);
            assertEquals(f16Bytes, sd.weightBytes(), 64L * LdmLayout.expectedTensors(config).size(), "BF16 is as big as F16");
        }
    }

    @Test
    void aLoconOnQuantizedKernelsWorksMergedAndAtRunTime() {
        int[] plain;
        int[] runtime;
        int[] merged;
        try (StableDiffusion sd = load(GgmlType.Q8_0, LoraApplyMode.AT_RUNTIME)) {
            plain = pixels(sd.generate(small().build()));
            runtime = pixels(sd.generate(small().lora(locon, 1.0f).build()));
        }
        try (StableDiffusion sd = load(GgmlType.Q8_0, LoraApplyMode.IMMEDIATELY)) {
            merged = pixels(sd.generate(small().lora(locon, 1.0f).build()));
            assertEquals(0, diff(pixels(sd.generate(small().build())), plain)[0], "undoing the merge is exact");
        }
        int[] f16Runtime;
        int[] f16Merged;
        try (StableDiffusion sd = load(null, LoraApplyMode.AT_RUNTIME)) {
            f16Runtime = pixels(sd.generate(small().lora(locon, 1.0f).build()));
        }
        try (StableDiffusion sd = load(null, LoraApplyMode.IMMEDIATELY)) {
            f16Merged = pixels(sd.generate(small().lora(locon, 1.0f).build()));
        }
        double drift = diff(plain, f16Image)[0];
        double[] change = diff(runtime, plain);
        double runtimeDrift = diff(runtime, f16Runtime)[0];
        double mergedDrift = diff(merged, f16Merged)[0];
        System.out.printf("LoCon on q8_0 kernels: changes the image by %.2f/255; vs the same LoCon on F16 kernels: run"
                + " time %.3f, merged %.3f (q8_0 kernels without LoRA: %.3f); F16 run time vs merged %.3f%n",
                change[0], runtimeDrift, mergedDrift, drift, diff(f16Runtime, f16Merged)[0]);
        assertTrue(change[0] > 1, "the LoCon must change the image: " + change[0]);
        // the LoCon adds no error of its own to the quantized kernels' (merging requantizes W + ΔW)
        assertTrue(runtimeDrift < 1.5 * drift + 0.5, "run time: " + runtimeDrift + " vs " + drift);
        assertTrue(mergedDrift < 1.5 * drift + 0.5, "merged: " + mergedDrift + " vs " + drift);
    }

    /** Weight bytes as computed, up to the buffer's per-tensor alignment. */
    static void assertWeightBytes(long expected, long actual) {
        assertTrue(Math.abs(expected - actual) <= 64L * LdmLayout.expectedTensors(config).size(),
                "weight bytes: expected about " + expected + ", got " + actual);
        assertTrue(actual < f16Bytes);
    }

    @Test
    void tensorTypeRulesChangeTheTypesOfTheTensorsTheyMatch() {
        long expected = 0;
        for (Map.Entry<String, long[]> e : LdmLayout.expectedTensors(config).entrySet()) {
            long[] s = e.getValue();
            if (s.length == 2 && e.getKey().contains("attn2.to_")) {
                expected += 2 * s[0] * s[1] - GgmlType.Q8_0.rowBytes(s[1]) * s[0];
            }
        }
        assertTrue(expected > 0);
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).tensorTypeRules("attn2\\.to_=q8_0,nothing_matches_this=q4_0").build()) {
            assertWeightBytes(f16Bytes - expected, sd.weightBytes());
            double[] d = diff(pixels(sd.generate(small().build())), f16Image);
            assertTrue(d[0] > 0 && d[0] < 4.0, "mean " + d[0]);
        }
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> StableDiffusion.builder().model(model).tensorTypeRules("attn2=q9"));
        assertTrue(e.getMessage().contains("unknown weight type 'q9'"), e.getMessage());
    }
}
