package io.sdj.pipeline;

import io.sdj.adapters.LoraApplyMode;
import io.sdj.model.DType;
import io.sdj.model.GoldenModel;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.SafetensorsWriter;
import io.sdj.model.TensorInfo;
import io.sdj.model.TinySd15Writer;
import io.sdj.sampling.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kohya LoRA on an OpenCLIP text encoder (SD 2.x): q_proj/k_proj/v_proj patch the row thirds of the fused
 * {@code in_proj_weight}. Merged, it gives the image of a checkpoint merged independently here; at run time it agrees
 * with the merge.
 */
class LoraOpenClipTest {
    static final int H = 64;
    static final int RANK = 2;
    static final float ALPHA = 1;

    @TempDir
    Path dir;

    @Test
    void fusedQkvThirdsMatchAnIndependentMerge() {
        Path model = dir.resolve("sd2.safetensors");
        TinySd15Writer.sd2().write(model);
        String pre = "cond_stage_model.model.transformer.resblocks.";
        SplittableRandom rnd = new SplittableRandom(5);
        SafetensorsWriter lora = new SafetensorsWriter();
        Map<String, float[]> deltas = new HashMap<>(); // weight → delta over the whole weight
        String[] mods = {"q_proj", "k_proj", "v_proj", "out_proj"};
        for (int layer = 0; layer < 2; layer++) {
            for (int part = 0; part < mods.length; part++) {
                String key = "lora_te_text_model_encoder_layers_" + layer + "_self_attn_" + mods[part];
                float[] a = new float[RANK * H];
                float[] b = new float[H * RANK];
                for (int i = 0; i < a.length; i++) {
                    a[i] = f16((float) (rnd.nextDouble(-1, 1) / 8));
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = f16((float) rnd.nextDouble(-0.8, 0.8));
                }
                lora.addFloats(key + ".lora_down.weight", DType.F16, new long[]{RANK, H}, a);
                lora.addFloats(key + ".lora_up.weight", DType.F16, new long[]{H, RANK}, b);
                lora.addFloats(key + ".alpha", DType.F16, new long[]{}, new float[]{ALPHA});
                boolean fused = part < 3;
                String weight = pre + layer + (fused ? ".attn.in_proj_weight" : ".attn.out_proj.weight");
                float[] d = deltas.computeIfAbsent(weight, k -> new float[(fused ? 3 : 1) * H * H]);
                int first = fused ? part * H : 0;
                for (int o = 0; o < H; o++) {
                    for (int j = 0; j < H; j++) {
                        double s = 0;
                        for (int r = 0; r < RANK; r++) {
                            s += (double) b[o * RANK + r] * a[r * H + j];
                        }
                        d[(first + o) * H + j] = (float) (s * (ALPHA / RANK));
                    }
                }
            }
        }
        Path loraFile = dir.resolve("te.safetensors");
        lora.write(loraFile);
        Path merged = dir.resolve("merged.safetensors");
        SafetensorsWriter m = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            f.metadata().forEach(m::metadata);
            for (TensorInfo t : f.tensors().values()) {
                float[] d = deltas.get(t.name());
                if (d == null) {
                    m.add(t.name(), t.dtype(), t.shape(), f.data(t.name()).toArray(ValueLayout.JAVA_BYTE));
                } else {
                    float[] v = f.readFloats(t.name());
                    for (int i = 0; i < v.length; i++) {
                        v[i] += d[i];
                    }
                    m.addFloats(t.name(), t.dtype(), t.shape(), v);
                }
            }
        }
        m.write(merged);
        int[] withLora = image(model, LoraApplyMode.AUTO, loraFile);
        int[] reference = image(merged, LoraApplyMode.AUTO, null);
        int[] runtime = image(model, LoraApplyMode.AT_RUNTIME, loraFile);
        int[] plain = image(model, LoraApplyMode.AUTO, null);
        double[] rt = LoraPipelineTest.diff(runtime, withLora);
        System.out.printf("OpenCLIP q/k/v/out LoRA: vs no LoRA mean %.2f; at_runtime vs merged mean %.4f, max %.0f%n",
                LoraPipelineTest.diff(withLora, plain)[0], rt[0], rt[1]);
        assertArrayEquals(reference, withLora, "merged LoRA = independently merged checkpoint");
        assertTrue(LoraPipelineTest.diff(withLora, plain)[0] > 1, "the LoRA must change the image");
        assertTrue(rt[0] < 0.5 && rt[1] <= 8, "run time vs merge: " + rt[0] + " / " + rt[1]);
    }

    private static int[] image(Path model, LoraApplyMode mode, Path lora) {
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).prediction(Prediction.EPS).loraApplyMode(mode).build()) {
            GenerationRequest.Builder b = LoraPipelineTest.small();
            if (lora != null) {
                b.lora(lora, 1.0f);
            }
            return LoraPipelineTest.pixels(sd.generate(b.build()));
        }
    }

    static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }
}
