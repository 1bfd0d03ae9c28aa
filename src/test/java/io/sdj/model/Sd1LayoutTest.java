package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Sd1LayoutTest {

    @TempDir
    Path dir;

    /**
     * The layout sdj expects for the standard SD 1.x configuration is exactly the golden checkpoint's parameter set
     * (names and shapes as RandomSd15.java --list prints them; the generator follows the published SD-v1 key lists).
     */
    @Test
    void sd1LayoutMatchesTheGoldenCheckpointList() throws Exception {
        Path gen = GoldenModel.sharedDir().resolve(GoldenCheckpoint.GENERATOR);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path out = dir.resolve("list.txt");
        Process p = new ProcessBuilder(java.toString(), gen.toString(), "--list", "1")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "RandomSd15 --list timed out");
        assertEquals(0, p.exitValue(), () -> readQuietly(out));
        Map<String, String> golden = new TreeMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            golden.put(f[0], f[2].replace(",", ", "));
        }
        assertEquals(1145, golden.size());
        Map<String, String> expected = new TreeMap<>();
        Sd1Layout.expectedTensors(Sd1Config.SD1).forEach((k, v) -> expected.put(k, TensorInfo.formatShape(v)));
        assertEquals(1130, expected.size(), "686 U-Net + 248 VAE + 196 CLIP parameters");
        Map<String, String> goldenParams = new TreeMap<>(golden);
        goldenParams.keySet().removeIf(k -> !expected.containsKey(k));
        List<String> missingInGolden = new ArrayList<>(expected.keySet());
        missingInGolden.removeAll(golden.keySet());
        assertEquals(List.of(), missingInGolden);
        assertEquals(expected, goldenParams);
        List<String> rest = new ArrayList<>(golden.keySet());
        rest.removeAll(expected.keySet());
        assertEquals(15, rest.size(), "12 schedule buffers, position_ids, 2 model_ema: " + rest);
        assertEquals("[1, 77]", golden.get(Sd1Layout.POSITION_IDS));
        assertEquals("[1000]", golden.get(Sd1Layout.ALPHAS_CUMPROD));
        assertEquals(686, count(expected, Sd1Component.UNET));
        assertEquals(248, count(expected, Sd1Component.VAE));
        assertEquals(196, count(expected, Sd1Component.CLIP));
    }

    private static long count(Map<String, String> m, Sd1Component c) {
        return m.keySet().stream().filter(c::owns).count();
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void inferenceRecoversTheSd1ConfigurationFromShapesAlone() {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        long off = 0;
        for (Map.Entry<String, long[]> e : Sd1Layout.expectedTensors(Sd1Config.SD1).entrySet()) {
            TensorInfo t = new TensorInfo(e.getKey(), DType.F16, e.getValue(), off, 0);
            tensors.put(e.getKey(), t);
        }
        assertEquals(ModelVersion.SD1, ModelDetector.detect(tensors));
        Sd1Config inferred = Sd1Layout.infer(Path.of("virtual"), tensors, Map.of());
        assertEquals(Sd1Config.SD1, inferred);
        assertEquals(List.of(), Sd1Layout.validate(Path.of("virtual"), tensors, inferred).ignored());
    }

    @Test
    void tinyModelIsDetectedAsSd1WithItsConfiguration() {
        TinySd15Writer.Builder b = TinySd15Writer.builder();
        Path p = b.write(dir.resolve("tiny.safetensors"));
        Sd1Config expected = b.config();
        try (Sd1Checkpoint ck = Sd1Checkpoint.open(p)) {
            assertEquals(expected, ck.config());
            assertEquals(4, ck.config().unet().numHeads(), "heads from the sdj metadata key");
            assertEquals(32, ck.config().unet().contextDim());
            assertEquals(List.of(1, 2), ck.config().unet().channelMult());
            assertEquals(List.of(true, true), ck.config().unet().attentionLevels());
            assertEquals(1, ck.config().clip().numHeads(), "32 / 64 rounds up to one head");
            assertEquals(2, ck.config().clip().numLayers());
            assertEquals(49408, ck.config().clip().vocabSize());
            assertEquals(77, ck.config().clip().maxPositions());
            assertEquals(128, ck.config().clip().intermediateSize());
            assertEquals(List.of(1, 2), ck.config().vae().chMult());
            assertEquals(4, ck.config().vae().zChannels());
            assertEquals(List.of(), ck.ignoredTensors());
            float[] ac = ck.alphasCumprod().orElseThrow();
            assertEquals(1000, ac.length);
            double[] exact = TinySd15Writer.ldmAlphasCumprod();
            assertEquals(Float.float16ToFloat(Float.floatToFloat16((float) exact[0])), ac[0]);
            assertEquals(0x3bfe, Float.floatToFloat16(ac[0]) & 0xffff, "same F16 value as the golden file");
            assertEquals(0x1cc6, Float.floatToFloat16(ac[999]) & 0xffff, "same F16 value as the golden file");
            // values are the documented pure function
            String name = Sd1Component.UNET.name("input_blocks.0.0.weight");
            TensorInfo t = ck.tensor(Sd1Component.UNET, "input_blocks.0.0.weight");
            assertArrayEquals(new long[]{32, 4, 3, 3}, t.shape());
            float[] w = ck.file().readFloats(name);
            assertEquals((float) TinySd15Writer.value(1, name, t.shape(), 5), w[5], 1e-3f);
        }
        long size = p.toFile().length();
        assertTrue(size < 8_000_000, "tiny model is " + size + " bytes");
    }

    @Test
    void variantsRoundTripThroughInference() {
        List<TinySd15Writer.Builder> variants = List.of(
                TinySd15Writer.builder().numResBlocks(2).unetHeads(8).dtype(DType.F32),
                TinySd15Writer.builder().channelMult(1, 2, 2).attention(true, false, true).transformerDepth(2)
                        .vaeChMult(1, 1, 2).vaeResBlocks(2).dtype(DType.BF16),
                TinySd15Writer.builder().channelMult(1).attention(false).clipHidden(64).clipLayers(1)
                        .vocab(1000).positions(16).positionIds(false).alphasCumprod(false),
                TinySd15Writer.builder().modelChannels(64).channelMult(1, 2, 4, 4).attention(true, true, true, false)
                        .clipHidden(128).vocab(500).vaeCh(32).vaeChMult(1, 2, 4, 4).vaeResBlocks(2).zChannels(4).embedDim(4));
        int i = 0;
        for (TinySd15Writer.Builder b : variants) {
            Path p = b.write(dir.resolve("v" + i++ + ".safetensors"));
            try (Sd1Checkpoint ck = Sd1Checkpoint.open(p)) {
                assertEquals(b.config(), ck.config(), p.toString());
            }
        }
    }

    @Test
    void missingTensorIsNamed() {
        String victim = Sd1Component.UNET.name("output_blocks.1.1.transformer_blocks.0.attn2.to_v.weight");
        Path p = TinySd15Writer.builder().omit(victim).write(dir.resolve("missing.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertEquals(victim, e.tensor());
        assertTrue(e.getMessage().contains("missing (expected shape [64, 32])"), e.getMessage());
        assertTrue(e.getMessage().contains("missing.safetensors"), e.getMessage());
    }

    @Test
    void wrongShapeIsReportedWithExpectedAndFound() {
        String victim = Sd1Component.VAE.name("decoder.up.1.block.0.conv1.weight");
        Path p = TinySd15Writer.builder().reshape(victim, 64, 64, 3, 1).write(dir.resolve("shape.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertEquals(victim, e.tensor());
        assertTrue(e.getMessage().contains("expected shape [64, 64, 3, 3], found [64, 64, 3, 1]"), e.getMessage());
    }

    @Test
    void severalProblemsAreListedTogether() {
        Path p = TinySd15Writer.builder()
                .omit(Sd1Component.CLIP.name("final_layer_norm.bias"))
                .reshape(Sd1Component.CLIP.name("encoder.layers.1.mlp.fc2.weight"), 32, 64)
                .write(dir.resolve("two.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertTrue(e.getMessage().contains("2 tensors do not match"), e.getMessage());
        assertTrue(e.getMessage().contains("final_layer_norm.bias' missing (expected shape [32])"), e.getMessage());
        assertTrue(e.getMessage().contains("fc2.weight' expected shape [32, 128], found [32, 64]"), e.getMessage());
    }

    @Test
    void inconsistentResBlockCountsAreRejected() {
        // level 1 with a second ResBlock that level 0 lacks: input_blocks.4 becomes a ResBlock
        Path p = TinySd15Writer.builder()
                .extra(Sd1Component.UNET.name("input_blocks.4.0.in_layers.2.weight"), 64, 64, 3, 3)
                .write(dir.resolve("res.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertTrue(e.getMessage().contains("level 1 has 2 ResBlocks but level 0 has 1"), e.getMessage());
    }

    @Test
    void extraTensorsUnderAComponentAreIgnoredAndListed() {
        String extra = Sd1Component.VAE.name("loss.logvar");
        Path p = TinySd15Writer.builder().extra(extra, 1).extra("model_ema.decay", 1).write(dir.resolve("extra.safetensors"));
        try (Sd1Checkpoint ck = Sd1Checkpoint.open(p)) {
            assertEquals(List.of(extra), ck.ignoredTensors());
        }
    }

    @Test
    void alphasCumprodMustHaveAThousandValues() {
        Path p = TinySd15Writer.builder().alphasCumprod(false).extra(Sd1Layout.ALPHAS_CUMPROD, 999)
                .write(dir.resolve("ac.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertEquals(Sd1Layout.ALPHAS_CUMPROD, e.tensor());
        assertTrue(e.getMessage().contains("shape [1000], found F16 [999]"), e.getMessage());
    }

    @Test
    void integerWeightsAreRejected() throws IOException {
        TinySd15Writer.Builder b = TinySd15Writer.builder().omit(Sd1Component.UNET.name("out.2.bias"));
        SafetensorsWriter w = b.toWriter();
        w.addInts(Sd1Component.UNET.name("out.2.bias"), new long[]{4}, new int[]{1, 2, 3, 4});
        Path p = dir.resolve("int.safetensors");
        w.write(p);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Sd1Checkpoint.open(p).close());
        assertTrue(e.getMessage().contains("has dtype I32, expected F32, F16 or BF16"), e.getMessage());
    }
}
