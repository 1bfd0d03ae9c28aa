package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.adapters.LoraApplyMode;
import io.sdj.model.DType;
import io.sdj.model.GoldenModel;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.SafetensorsWriter;
import io.sdj.model.TensorInfo;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LoRA end to end on a tiny SD1-shaped model: a diffusers/PEFT file with a text-encoder half (which sd.cpp drops) and
 * a U-Net half gives the image of a checkpoint merged independently here (in double precision, rounded to F16); LoRAs
 * change between requests without reading the model again and the undo is exact; run-time application agrees with
 * the merge; a q8_0 model takes a LoRA by itself (run time), where sd.cpp aborts.
 */
class LoraPipelineTest {
    static final int RANK = 2;
    @TempDir
    static Path dir;
    static Path model;
    static Path peft;
    static Path peftTe;
    static Path merged;
    static ModelConfig config;
    static StableDiffusion sd;
    static final AtomicInteger loads = new AtomicInteger();

    /** PEFT module key → LDM weight, for the tiny model (2 CLIP layers, one transformer per level). */
    static Map<String, String> modules() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String p : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.put("text_encoder.text_model.encoder.layers." + l + ".self_attn." + p,
                        "cond_stage_model.transformer.text_model.encoder.layers." + l + ".self_attn." + p + ".weight");
            }
        }
        for (String p : new String[]{"attn2.to_k", "attn2.to_v", "attn1.to_q", "attn1.to_out.0"}) {
            m.put("unet.down_blocks.1.attentions.0.transformer_blocks.0." + p,
                    "model.diffusion_model.input_blocks.3.1.transformer_blocks.0." + p + ".weight");
            m.put("unet.up_blocks.0.attentions.1.transformer_blocks.0." + p,
                    "model.diffusion_model.output_blocks.1.1.transformer_blocks.0." + p + ".weight");
        }
        return m;
    }

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny.safetensors");
        config = TinySd15Writer.writeDefault(model);
        Map<String, long[]> shapes = LdmLayout.expectedTensors(config);
        SplittableRandom rnd = new SplittableRandom(11);
        SafetensorsWriter both = new SafetensorsWriter();
        SafetensorsWriter te = new SafetensorsWriter();
        Map<String, float[]> deltas = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : modules().entrySet()) {
            long[] w = shapes.get(e.getValue());
            assertTrue(w != null && w.length == 2, e.getValue());
            int out = (int) w[0];
            int in = (int) w[1];
            float[] a = new float[RANK * in];
            float[] b = new float[out * RANK];
            for (int i = 0; i < a.length; i++) {
                a[i] = f16((float) (rnd.nextDouble(-1, 1) / Math.sqrt(in)));
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = f16((float) rnd.nextDouble(-0.6, 0.6));
            }
            double[] d = new double[out * in];
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < in; j++) {
                    double s = 0;
                    for (int r = 0; r < RANK; r++) {
                        s += (double) b[o * RANK + r] * a[r * in + j];
                    }
                    d[o * in + j] = s;
                }
            }
            float[] df = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                df[i] = (float) d[i];
            }
            deltas.put(e.getValue(), df);
            for (SafetensorsWriter wr : e.getKey().startsWith("text_encoder") ? new SafetensorsWriter[]{both, te}
                    : new SafetensorsWriter[]{both}) {
                wr.addFloats(e.getKey() + ".lora_A.weight", DType.F16, new long[]{RANK, in}, a);
                wr.addFloats(e.getKey() + ".lora_B.weight", DType.F16, new long[]{out, RANK}, b);
            }
        }
        peft = dir.resolve("peft.safetensors");
        both.write(peft);
        peftTe = dir.resolve("peft_te.safetensors");
        te.write(peftTe);
        merged = dir.resolve("merged.safetensors");
        SafetensorsWriter m = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            f.metadata().forEach(m::metadata); // the tiny model's head count
            for (TensorInfo t : f.tensors().values()) {
                float[] delta = deltas.get(t.name());
                if (delta == null) {
                    MemorySegment s = f.data(t.name());
                    m.add(t.name(), t.dtype(), t.shape(), s.toArray(ValueLayout.JAVA_BYTE));
                } else {
                    float[] v = f.readFloats(t.name());
                    for (int i = 0; i < v.length; i++) {
                        v[i] = v[i] + delta[i]; // scale = multiplier 1 (PEFT has no alpha)
                    }
                    m.addFloats(t.name(), t.dtype(), t.shape(), v);
                }
            }
        }
        m.write(merged);
        sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu").threads(2)
                .listener(p -> {
                    if (p.phase() == Phase.LOADING_WEIGHTS && p.step() == p.total()) {
                        loads.incrementAndGet();
                    }
                }).build();
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static GenerationRequest.Builder small() {
        return GenerationRequest.builder("a lovely cat").size(64, 64).steps(2).seed(42);
    }

    static int[] pixels(GenerationResult r) {
        BufferedImage img = r.images().getFirst().image();
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    /** Mean absolute difference per channel sample, and the max. */
    static double[] diff(int[] a, int[] b) {
        double sum = 0;
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int s = 0; s < 24; s += 8) {
                int d = Math.abs((a[i] >> s & 255) - (b[i] >> s & 255));
                sum += d;
                max = Math.max(max, d);
            }
        }
        return new double[]{sum / (3.0 * a.length), max};
    }

    @Test
    void peftWithTextEncoderHalfMatchesAnIndependentMerge() {
        int[] withLora = pixels(sd.generate(small().lora(peft, 1.0f).build()));
        int[] plain = pixels(sd.generate(small().build()));
        int[] teOnly = pixels(sd.generate(small().lora(peftTe, 1.0f).build()));
        int[] reference;
        try (StableDiffusion m = StableDiffusion.builder().model(merged).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).build()) {
            reference = pixels(m.generate(small().build()));
        }
        double[] d = diff(withLora, reference);
        System.out.printf("merged checkpoint vs no LoRA: mean %.4f%n", diff(reference, plain)[0]);
        System.out.printf("PEFT (TE + U-Net) vs independent merge: mean %.4f, max %.0f; vs no LoRA: mean %.2f;"
                + " TE half alone vs no LoRA: mean %.2f%n", d[0], d[1], diff(withLora, plain)[0], diff(teOnly, plain)[0]);
        assertTrue(d[0] <= 0.05 && d[1] <= 1, "vs independent merge: mean " + d[0] + ", max " + d[1]);
        assertTrue(diff(teOnly, plain)[0] > 1, "the text-encoder half must change the image");
        assertTrue(diff(withLora, plain)[0] > 1, "the LoRA must change the image");
    }

    @Test
    void changingLorasDoesNotReloadAndUndoIsExact() {
        int[] before = pixels(sd.generate(small().build()));
        int loadsBefore = loads.get();
        long t0 = System.nanoTime();
        int[] one = pixels(sd.generate(small().lora(peft, 1.0f).build()));
        int[] half = pixels(sd.generate(small().lora(peft, 0.5f).build()));
        int[] twice = pixels(sd.generate(small().lora(peft, 0.25f).lora(peft, 0.25f).build()));
        int[] after = pixels(sd.generate(small().build()));
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("4 generations switching LoRAs: %.2f s, weight loads: %d%n", s, loads.get() - loadsBefore);
        assertEquals(loadsBefore, loads.get(), "no weights read from the model file");
        assertArrayEquals(before, after, "removing the LoRA restores the exact weights");
        assertArrayEquals(half, twice, "a file named twice adds its multipliers");
        assertTrue(diff(one, half)[0] > 0.5);
    }

    @Test
    void runtimeApplicationAgreesWithTheMerge() {
        int[] mergedImage = pixels(sd.generate(small().lora(peft, 1.0f).build()));
        try (StableDiffusion rt = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).loraApplyMode(LoraApplyMode.AT_RUNTIME).build()) {
            int[] runtime = pixels(rt.generate(small().lora(peft, 1.0f).build()));
            int[] plain = pixels(rt.generate(small().build()));
            double[] d = diff(runtime, mergedImage);
            System.out.printf("at_runtime vs immediately: mean %.4f, max %.0f%n", d[0], d[1]);
            assertTrue(d[0] < 0.5 && d[1] <= 8, "mean " + d[0] + ", max " + d[1]);
            assertArrayEquals(pixels(sd.generate(small().build())), plain, "run-time terms removed");
        }
    }

    @Test
    void quantizedModelAppliesAtRuntimeByItself() {
        int[] fPlain = pixels(sd.generate(small().build()));
        int[] fLora = pixels(sd.generate(small().lora(peft, 1.0f).build()));
        int[] qPlain;
        int[] qRuntime;
        int[] qMerged;
        try (StableDiffusion q = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).weightType(GgmlType.Q8_0).build()) {
            qPlain = pixels(q.generate(small().build()));
            qRuntime = pixels(q.generate(small().lora(peft, 1.0f).build())); // auto: run time for q8_0
        }
        try (StableDiffusion qi = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).weightType(GgmlType.Q8_0).loraApplyMode(LoraApplyMode.IMMEDIATELY)
                .build()) {
            qMerged = pixels(qi.generate(small().lora(peft, 1.0f).build())); // dequantize, add, requantize
        }
        double noise = diff(qPlain, fPlain)[0];
        double runtime = diff(qRuntime, fLora)[0];
        double merged = diff(qMerged, fLora)[0];
        System.out.printf("q8_0 vs f16: no LoRA %.4f; LoRA at run time (auto) %.4f; LoRA merged and requantized %.4f"
                + " (mean/255)%n", noise, runtime, merged);
        assertTrue(diff(qPlain, qRuntime)[0] > 1, "the LoRA must change the q8_0 image");
        assertTrue(runtime <= 2 * noise + 1, "run time on q8_0 vs f16 merge: " + runtime);
        assertTrue(merged <= 2 * noise + 1, "requantized merge vs f16 merge: " + merged);
    }

    @Test
    void promptTagsNeedTheirFile() {
        try (StableDiffusion t = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).loraModelDir(dir).build()) {
            int[] tagged = pixels(t.generate(GenerationRequest.builder("a lovely cat<lora:peft:1>").size(64, 64)
                    .steps(2).seed(42).build()));
            assertArrayEquals(pixels(sd.generate(small().lora(peft, 1.0f).build())), tagged,
                    "<lora:peft:1> is the typed lora(peft, 1)");
            InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> t.generate(
                    GenerationRequest.builder("cat<lora:nothere:1>").size(64, 64).steps(1).build()));
            assertTrue(e.getMessage().contains("nothere.safetensors"), e.getMessage());
        }
    }
}
