package io.sdj.vae;

import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsFile;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlException;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaesdTest {
    @TempDir
    Path dir;

    static long params(Map<String, long[]> m) {
        long n = 0;
        for (long[] s : m.values()) {
            long e = 1;
            for (long d : s) {
                e *= d;
            }
            n += e;
        }
        return n;
    }

    @Test
    void layoutHasThePublishedParameterCounts() {
        // madebyollin/taesd: encoder 1,222,532 and decoder 1,222,531 parameters, 134 tensors in all
        assertEquals(1_222_532, params(Taesd.expectedTensors(Taesd.Part.ENCODER)));
        assertEquals(1_222_531, params(Taesd.expectedTensors(Taesd.Part.DECODER)));
        assertEquals(134, TaesdFiles.all().size());
        assertTrue(Taesd.expectedTensors(Taesd.Part.DECODER).containsKey("decoder.layers.18.bias"));
        assertTrue(Taesd.expectedTensors(Taesd.Part.ENCODER).containsKey("encoder.layers.14.bias"));
        assertEquals(List.of(64L, 64L, 3L, 3L), List.of(box(Taesd.expectedTensors(Taesd.Part.ENCODER)
                .get("encoder.layers.2.weight"))));
    }

    private static Long[] box(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    @Test
    void validationNamesTheMissingTensor() {
        Path f = dir.resolve("no-bias.safetensors");
        TaesdFiles.write(f, TaesdFiles.all(), Set.of("encoder.layers.14.bias"), 1);
        try (SafetensorsFile file = SafetensorsFile.open(f)) {
            Taesd.validate(file, List.of(Taesd.Part.DECODER)); // the decoder alone is complete
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> Taesd.validate(file, List.of(Taesd.Part.ENCODER, Taesd.Part.DECODER)));
            assertEquals("encoder.layers.14.bias", e.tensor());
            assertTrue(e.getMessage().contains("no-bias.safetensors"), e.getMessage());
        }
    }

    @Test
    void validationRejectsAWrongShapeAndANonTaesdFile() {
        Map<String, long[]> shapes = TaesdFiles.all();
        shapes.put("decoder.layers.6.weight", new long[]{64, 64, 1, 1});
        Path f = dir.resolve("bad-shape.safetensors");
        TaesdFiles.write(f, shapes, Set.of(), 1);
        try (SafetensorsFile file = SafetensorsFile.open(f)) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> Taesd.validate(file, List.of(Taesd.Part.DECODER)));
            assertEquals("decoder.layers.6.weight", e.tensor());
            assertTrue(e.getMessage().contains("[64, 64, 3, 3]"), e.getMessage());
        }
        Path other = dir.resolve("other.safetensors");
        TaesdFiles.write(other, Map.of("first_stage_model.decoder.conv_in.weight", new long[]{4, 4, 3, 3}), Set.of(), 1);
        try (SafetensorsFile file = SafetensorsFile.open(other)) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> Taesd.validate(file, List.of(Taesd.Part.DECODER)));
            assertTrue(e.getMessage().contains("AutoencoderTiny"), e.getMessage());
        }
    }

    @Test
    void blockMatchesAReferenceComputation() {
        int w = 5;
        int h = 4;
        int c = Taesd.CHANNELS;
        SplittableRandom rnd = new SplittableRandom(3);
        Backend cpu = Backends.get("cpu");
        try (WeightStore ws = new WeightStore("block", 6)) {
            float[][] kernels = new float[3][];
            float[][] biases = new float[3][];
            Tensor[] kt = new Tensor[3];
            Tensor[] bt = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                kernels[i] = f16(random(rnd, 3 * 3 * c * c, 0.06));
                biases[i] = random(rnd, c, 0.05);
                kt[i] = ws.create("b.conv." + 2 * i + ".weight", GgmlType.F16, 3, 3, c, c);
                bt[i] = ws.create("b.conv." + 2 * i + ".bias", GgmlType.F32, c);
            }
            ws.allocate(cpu);
            for (int i = 0; i < 3; i++) {
                kt[i].setFloats(kernels[i]);
                bt[i].setFloats(biases[i]);
            }
            float[] x = random(rnd, w * h * c, 1.0);
            float[] got;
            try (Graph g = new Graph("block")) {
                Tensor in = g.input("x", GgmlType.F32, w, h, c, 1);
                Tensor out = Taesd.block(g, in, Scope.of(ws, "b."));
                try (CompiledGraph cg = g.compile(cpu, out)) {
                    in.setFloats(x);
                    cg.compute();
                    got = out.getFloats();
                }
            }
            float[] t = relu(conv(x, w, h, kernels[0], biases[0]));
            t = relu(conv(t, w, h, kernels[1], biases[1]));
            t = conv(t, w, h, kernels[2], biases[2]);
            for (int i = 0; i < t.length; i++) {
                t[i] = Math.max(0, t[i] + x[i]);
            }
            double maxErr = 0;
            for (int i = 0; i < t.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(t[i] - got[i]));
            }
            assertTrue(maxErr < 2e-2, "max |Δ| " + maxErr); // im2col rounds activations to F16
        }
    }

    /** The file's tensors in a store on {@code be}: kernels F16, biases F32 (as sd.cpp keeps them). */
    static WeightStore load(SafetensorsFile file, Backend be) {
        WeightStore ws = new WeightStore("taesd", 200);
        for (var e : file.tensors().values()) {
            long[] s = e.shape();
            long[] ne = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                ne[i] = s[s.length - 1 - i];
            }
            ws.create(e.name(), s.length == 4 ? GgmlType.F16 : GgmlType.F32, ne);
        }
        ws.allocate(be);
        for (var e : file.tensors().values()) {
            ws.get(e.name()).setFloats(file.readFloats(e.name()));
        }
        return ws;
    }

    @Test
    void decodeAndEncodeHaveTheScaledShapesAndRejectBadInputs() {
        Path f = dir.resolve("taesd.safetensors");
        TaesdFiles.write(f, 5);
        try (SafetensorsFile file = SafetensorsFile.open(f); WeightStore ws = load(file, Backends.get("cpu"))) {
            Taesd taesd = new Taesd(Scope.of(ws, ""));
            try (Graph g = new Graph("shapes")) {
                Tensor z = g.input("z", GgmlType.F32, 3, 2, 4, 1);
                Tensor img = taesd.decode(g, z);
                assertEquals(List.of(24L, 16L, 3L, 1L), List.of(box(img.ne())));
                Tensor x = g.input("x", GgmlType.F32, 24, 16, 3, 1);
                Tensor lat = taesd.encode(g, x);
                assertEquals(List.of(3L, 2L, 4L, 1L), List.of(box(lat.ne())));
                assertThrows(GgmlException.class, () -> taesd.decode(g, x), "3 channels into the decoder");
                assertThrows(GgmlException.class, () -> taesd.encode(g, g.input("odd", GgmlType.F32, 20, 16, 3, 1)));
            }
        }
    }

    static float[] decode(SafetensorsFile file, Backend be, float[] z, int w, int h) {
        try (WeightStore ws = load(file, be); Graph g = new Graph("decode")) {
            Tensor in = g.input("z", GgmlType.F32, w, h, 4, 1);
            Tensor out = new Taesd(Scope.of(ws, "")).decode(g, in);
            try (CompiledGraph c = g.compile(be, out)) {
                in.setFloats(z);
                c.compute();
                return out.getFloats();
            }
        }
    }

    @Test
    @Tag("slow") // lavapipe compiles its shaders first: about a minute on a loaded 2-core machine
    void vulkanDecodesLikeTheCpu() {
        Path f = dir.resolve("taesd-vk.safetensors");
        TaesdFiles.write(f, 6);
        float[] z = random(new SplittableRandom(9), 4 * 3 * 4, 2.0);
        try (SafetensorsFile file = SafetensorsFile.open(f)) {
            float[] cpu = decode(file, Backends.get("cpu"), z, 4, 3);
            float[] vk = decode(file, Backends.get("vulkan"), z, 4, 3);
            double max = 0;
            for (int i = 0; i < cpu.length; i++) {
                max = Math.max(max, Math.abs(cpu[i] - vk[i]));
            }
            assertTrue(max < 2e-2, "max |Δ| " + max + " between CPU and Vulkan (lavapipe)");
        }
    }

    static float[] random(SplittableRandom rnd, int n, double hw) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-hw, hw);
        }
        return v;
    }

    static float[] f16(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
        }
        return r;
    }

    static float[] relu(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.max(0, v[i]);
        }
        return v;
    }

    /** 3×3 convolution, padding 1, planar [w, h, c] → [w, h, c]; kernel ggml order [kw, kh, ic, oc]. */
    static float[] conv(float[] x, int w, int h, float[] k, float[] b) {
        int c = b.length;
        float[] out = new float[w * h * c];
        for (int oc = 0; oc < c; oc++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    double s = b[oc];
                    for (int ic = 0; ic < c; ic++) {
                        for (int ky = 0; ky < 3; ky++) {
                            int sy = y + ky - 1;
                            if (sy < 0 || sy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < 3; kx++) {
                                int sx = xx + kx - 1;
                                if (sx < 0 || sx >= w) {
                                    continue;
                                }
                                s += k[((oc * c + ic) * 3 + ky) * 3 + kx] * x[(ic * h + sy) * w + sx];
                            }
                        }
                    }
                    out[(oc * h + y) * w + xx] = (float) s;
                }
            }
        }
        return out;
    }
}
