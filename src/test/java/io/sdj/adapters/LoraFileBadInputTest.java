package io.sdj.adapters;

import io.sdj.SdjException;
import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * LoRA files that cannot be applied are refused with a {@link ModelFormatException} naming the file and the tensor:
 * unknown names, LoHa/LoKr, rank mismatches, shapes that do not fit, a NaN alpha or value, half a module; and a
 * mutation sweep over a valid file's bytes (header and data, truncation) gives typed errors only.
 */
class LoraFileBadInputTest {
    static final String Q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    static final String PROJ = "lora_unet_down_blocks_0_attentions_0_proj_in";
    static final String CONV = "lora_unet_down_blocks_0_resnets_0_conv1";

    @TempDir
    static Path dir;
    static LoraNames names;

    @BeforeAll
    static void names() {
        names = LoraNames.of(LoraNamesTest.SD15, "SD 1.x");
    }

    static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * 0.37) * 0.1f;
        }
        return v;
    }

    /** A valid file: one Linear module (to_q 320×320), one 1×1 conv (proj_in) and one 3×3 conv, rank 2. */
    static SafetensorsWriter valid() {
        SafetensorsWriter w = new SafetensorsWriter();
        w.addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640));
        w.addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640));
        w.addFloats(Q + ".alpha", DType.F16, new long[]{}, new float[]{1});
        w.addFloats(PROJ + ".lora_down.weight", DType.F16, new long[]{2, 320, 1, 1}, ramp(640));
        w.addFloats(PROJ + ".lora_up.weight", DType.F16, new long[]{320, 2, 1, 1}, ramp(640));
        w.addFloats(CONV + ".lora_down.weight", DType.F16, new long[]{2, 320, 3, 3}, ramp(2 * 320 * 9));
        w.addFloats(CONV + ".lora_up.weight", DType.F16, new long[]{320, 2, 1, 1}, ramp(640));
        return w;
    }

    static Path write(String name, Consumer<SafetensorsWriter> edit) {
        SafetensorsWriter w = valid();
        edit.accept(w);
        Path p = dir.resolve(name + ".safetensors");
        w.write(p);
        return p;
    }

    static ModelFormatException refused(Path p, String tensor, String words) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LoraFile.read(p, names));
        assertEquals(p, e.file(), e.getMessage());
        if (tensor != null) {
            assertEquals(tensor, e.tensor(), e.getMessage());
        }
        assertTrue(e.getMessage().contains(words), e.getMessage());
        return e;
    }

    @Test
    void validFileReads() {
        List<LoraModule> m = LoraFile.read(write("valid", w -> { }), names);
        assertEquals(3, m.size());
    }

    @Test
    void unknownNamesAreListed() {
        Path p = write("unknown", w -> {
            w.addFloats("lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight", DType.F16, new long[]{2, 4},
                    ramp(8));
            w.addFloats("something_else", DType.F16, new long[]{1}, ramp(1));
        });
        ModelFormatException e = refused(p, null, "2 tensors match no weight of this SD 1.x model");
        assertTrue(e.getMessage().contains("lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight"));
        assertTrue(e.getMessage().contains("something_else"));
    }

    @Test
    void lohaAndLokrAreNamed() {
        refused(write("loha", w -> w.addFloats(Q.replace("to_q", "to_k") + ".hada_w1_a", DType.F16,
                new long[]{2, 2}, ramp(4))), Q.replace("to_q", "to_k") + ".hada_w1_a", "LoHa");
        refused(write("lokr", w -> w.addFloats(Q.replace("to_q", "to_k") + ".lokr_w1", DType.F16,
                new long[]{2, 2}, ramp(4))), Q.replace("to_q", "to_k") + ".lokr_w1", "LoKr");
    }

    @Test
    void rankMismatch() {
        Path p = dir.resolve("rank.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 3}, ramp(960)).write(p);
        refused(p, Q + ".lora_up.weight", "has rank 3");
    }

    @Test
    void shapesThatDoNotFit() {
        Path p = dir.resolve("in.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 768}, ramp(1536))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640)).write(p);
        refused(p, Q + ".lora_down.weight", "does not fit");
        Path out = dir.resolve("out.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{640, 2}, ramp(1280)).write(out);
        refused(out, Q + ".lora_up.weight", "has 640 outputs");
        Path k = dir.resolve("kernel.safetensors");
        new SafetensorsWriter()
                .addFloats(CONV + ".lora_down.weight", DType.F16, new long[]{2, 2880}, ramp(5760))
                .addFloats(CONV + ".lora_up.weight", DType.F16, new long[]{320, 2, 1, 1}, ramp(640)).write(k);
        refused(k, CONV + ".lora_down.weight", "does not fit");
        Path r3 = dir.resolve("rank3d.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320, 1}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640)).write(r3);
        refused(r3, Q + ".lora_down.weight", "[rank, in]");
    }

    @Test
    void halfAModule() {
        Path p = dir.resolve("half.safetensors");
        new SafetensorsWriter().addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".alpha", DType.F16, new long[]{}, new float[]{1}).write(p);
        refused(p, Q + ".lora_down.weight", "has no up");
    }

    @Test
    void nonFiniteAlphaAndValues() {
        Path nan = dir.resolve("nan.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640))
                .addFloats(Q + ".alpha", DType.F32, new long[]{}, new float[]{Float.NaN}).write(nan);
        refused(nan, Q + ".alpha", "alpha is NaN");
        Path vec = dir.resolve("alphavec.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640))
                .addFloats(Q + ".alpha", DType.F32, new long[]{2}, new float[]{1, 2}).write(vec);
        refused(vec, Q + ".alpha", "is a scalar");
        float[] bad = ramp(640);
        bad[17] = Float.POSITIVE_INFINITY;
        Path inf = dir.resolve("inf.safetensors");
        new SafetensorsWriter()
                .addFloats(Q + ".lora_down.weight", DType.F16, new long[]{2, 320}, ramp(640))
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, bad).write(inf);
        refused(inf, Q + ".lora_up.weight", "element 17 is Infinity");
    }

    @Test
    void intDtypeRefused() {
        Path p = dir.resolve("int.safetensors");
        new SafetensorsWriter()
                .addInts(Q + ".lora_down.weight", new long[]{2, 320}, new int[640])
                .addFloats(Q + ".lora_up.weight", DType.F16, new long[]{320, 2}, ramp(640)).write(p);
        refused(p, Q + ".lora_down.weight", "has dtype I32");
    }

    @Test
    void emptyFileOfTensorsRefused() {
        Path p = dir.resolve("none.safetensors");
        new SafetensorsWriter().metadata("a", "b").write(p);
        assertThrows(ModelFormatException.class, () -> LoraFile.read(p, names));
    }

    /** Every single-byte mutation in the header and a sample in the data, and every truncation step: typed errors only. */
    @Test
    void mutationSweep() throws Exception {
        Path good = write("sweep", w -> { });
        byte[] bytes = Files.readAllBytes(good);
        long headerLen = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Random rnd = new Random(7);
        Path p = dir.resolve("mutant.safetensors");
        int refused = 0;
        int cases = 0;
        for (int i = 0; i < 8 + headerLen; i += 1 + rnd.nextInt(3)) {
            byte[] m = bytes.clone();
            m[i] = (byte) (m[i] ^ (1 << rnd.nextInt(8)));
            refused += tryRead(p, m);
            cases++;
        }
        for (int k = 0; k < 200; k++) {
            byte[] m = bytes.clone();
            int i = (int) (8 + headerLen + rnd.nextInt((int) (bytes.length - 8 - headerLen)));
            m[i] = (byte) 0xff; // high byte of an F16: NaN or infinity, or a huge value
            m[i - 1] = (byte) 0xff;
            refused += tryRead(p, m);
            cases++;
        }
        for (int len = 0; len < bytes.length; len += 1 + bytes.length / 300) {
            refused += tryRead(p, Arrays.copyOf(bytes, len));
            cases++;
        }
        assertTrue(refused > cases / 2, refused + " of " + cases + " refused");
    }

    private static int tryRead(Path p, byte[] content) throws Exception {
        Files.write(p, content);
        try {
            LoraFile.read(p, names);
            return 0;
        } catch (SdjException e) {
            return 1;
        } catch (RuntimeException e) {
            fail("untyped " + e + " for a mutated file", e);
            return 0;
        }
    }
}
