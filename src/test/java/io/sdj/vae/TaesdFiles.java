package io.sdj.vae;

import io.sdj.model.DType;
import io.sdj.model.SafetensorsWriter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Test support: TAESD files in the real layout ({@link Taesd#expectedTensors}) with small pseudo-random F16 values:
 * conv kernels uniform in ±sqrt(3 / fan_in)·gain, biases ±0.02, the decoder's last bias 0.5 so that pictures sit mid
 * range.
 */
public final class TaesdFiles {
    private TaesdFiles() {
    }

    /** Every tensor of both halves: name → shape. */
    public static Map<String, long[]> all() {
        Map<String, long[]> m = new LinkedHashMap<>(Taesd.expectedTensors(Taesd.Part.ENCODER));
        m.putAll(Taesd.expectedTensors(Taesd.Part.DECODER));
        return m;
    }

    /** Writes the tensors of {@code shapes} except those in {@code skip}, seeded. */
    public static void write(Path file, Map<String, long[]> shapes, Set<String> skip, long seed) {
        SafetensorsWriter w = new SafetensorsWriter();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (skip.contains(e.getKey())) {
                continue;
            }
            w.addFloats(e.getKey(), DType.F16, e.getValue(), values(e.getKey(), e.getValue(), rnd));
        }
        w.write(file);
    }

    /** Writes a complete random TAESD. */
    public static void write(Path file, long seed) {
        write(file, all(), Set.of(), seed);
    }

    static float[] values(String name, long[] shape, SplittableRandom rnd) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        if (shape.length == 1) {
            float center = name.equals("decoder.layers.18.bias") ? 0.5f : 0f;
            for (int i = 0; i < n; i++) {
                v[i] = center + (float) rnd.nextDouble(-0.02, 0.02);
            }
            return v;
        }
        double fanIn = (double) n / shape[0];
        double gain = name.equals("decoder.layers.18.weight") ? 0.15 : name.equals("encoder.layers.14.weight") ? 3 : 1;
        double hw = Math.sqrt(3 / fanIn) * gain;
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-hw, hw);
        }
        return v;
    }
}
