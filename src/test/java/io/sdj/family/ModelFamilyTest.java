package io.sdj.family;

import io.sdj.model.ClipTextConfig;
import io.sdj.model.Component;
import io.sdj.model.DType;
import io.sdj.model.GoldenModel;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.SafetensorsWriter;
import io.sdj.model.TensorInfo;
import io.sdj.model.TinySd15Writer;
import io.sdj.model.UnetConfig;
import io.sdj.model.VaeConfig;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The family seam: detection, inference and validation for SD 1.x, SD 2.x and SDXL files. */
class ModelFamilyTest {
    static final ModelConfig SD1 = new ModelConfig(UnetConfig.SD1, VaeConfig.SD1, Map.of(Sd1Family.CLIP, ClipTextConfig.SD1));
    static final ModelConfig SD2 = new ModelConfig(UnetConfig.SD2, VaeConfig.SD1,
            Map.of(Sd2Family.OPEN_CLIP, new ClipTextConfig(ClipTextConfig.Flavor.OPEN_CLIP, 1024, 24, 16, 4096, 49408, 77, 1024)));
    static final ModelConfig SDXL;

    static {
        Map<Component, ClipTextConfig> m = new LinkedHashMap<>();
        m.put(SdxlFamily.CLIP_L, ClipTextConfig.SD1);
        m.put(SdxlFamily.CLIP_G, ClipTextConfig.VIT_BIGG);
        SDXL = new ModelConfig(UnetConfig.SDXL, VaeConfig.SD1, m);
    }

    @TempDir
    Path dir;

    /** Detects and configures a file as loading does. */
    static ModelConfig configure(Path p) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            return ModelFamilies.detect(f).configure(f);
        }
    }

    static ModelFamily family(Path p) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            return ModelFamilies.detect(f);
        }
    }

    /** name → shape of every tensor a golden generator's --list prints. */
    private Map<String, String> goldenList(String folder, String generator, int expectedCount) throws Exception {
        Path gen = GoldenModel.sharedDir().resolve(folder).resolve(generator);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path out = dir.resolve(generator + ".txt");
        Process p = new ProcessBuilder(java.toString(), gen.toString(), "--list", "1")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), generator + " --list timed out");
        assertEquals(0, p.exitValue(), () -> readQuietly(out));
        Map<String, String> golden = new TreeMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            golden.put(f[0], f[2].replace(",", ", ").replace("[]", "[]"));
        }
        assertEquals(expectedCount, golden.size(), generator + " tensors");
        return golden;
    }

    /** The layout's tensors for a configuration are exactly the generator's parameters; returns the rest. */
    private List<String> assertLayoutMatches(Map<String, String> golden, ModelConfig config, int params) {
        Map<String, String> expected = new TreeMap<>();
        LdmLayout.expectedTensors(config).forEach((k, v) -> expected.put(k, TensorInfo.formatShape(v)));
        assertEquals(params, expected.size());
        List<String> missing = new ArrayList<>(expected.keySet());
        missing.removeAll(golden.keySet());
        assertEquals(List.of(), missing, "in the layout but not in the golden file");
        Map<String, String> goldenParams = new TreeMap<>(golden);
        goldenParams.keySet().removeIf(k -> !expected.containsKey(k));
        assertEquals(expected, goldenParams);
        List<String> rest = new ArrayList<>(golden.keySet());
        rest.removeAll(expected.keySet());
        return rest;
    }

    @Test
    void sd1LayoutMatchesTheGoldenCheckpointList() throws Exception {
        List<String> rest = assertLayoutMatches(goldenList("golden", "RandomSd15.java", 1145), SD1, 1130);
        assertEquals(15, rest.size(), "12 schedule buffers, position_ids, 2 model_ema: " + rest);
    }

    @Test
    void sd2LayoutMatchesTheGoldenCheckpointList() throws Exception {
        List<String> rest = assertLayoutMatches(goldenList("golden-sd2", "RandomSd2.java", 1242), SD2, 1227);
        assertEquals(15, rest.size(), "12 schedule buffers, logit_scale, 2 model_ema: " + rest);
        assertTrue(rest.contains(Sd2Family.OPEN_CLIP.name("logit_scale")));
    }

    @Test
    void sdxlLayoutMatchesTheGoldenCheckpointList() throws Exception {
        List<String> rest = assertLayoutMatches(goldenList("golden-sdxl", "RandomSdxl.java", 2515), SDXL, 2513);
        assertEquals(List.of(SdxlFamily.CLIP_L.name("embeddings.position_ids"), SdxlFamily.CLIP_G.name("logit_scale")),
                rest.stream().sorted().toList());
    }

    private static Map<String, TensorInfo> virtual(ModelConfig config) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : LdmLayout.expectedTensors(config).entrySet()) {
            tensors.put(e.getKey(), new TensorInfo(e.getKey(), DType.F16, e.getValue(), 0, 0));
        }
        return tensors;
    }

    @Test
    void inferenceRecoversEachFamilysConfigurationFromShapesAlone() {
        for (ModelConfig config : List.of(SD1, SD2, SDXL)) {
            Map<String, TensorInfo> tensors = virtual(config);
            ModelFamily f = ModelFamilies.find(tensors).orElseThrow();
            LdmLayout.Shapes s = new LdmLayout.Shapes(Path.of("virtual"), tensors);
            int heads = f == ModelFamilies.SD1 ? UnetConfig.SD1_NUM_HEADS : 0;
            int headDim = heads > 0 ? 0 : UnetConfig.HEAD_DIM_64;
            assertEquals(config.unet(), LdmLayout.inferUnet(s, Component.UNET.prefix(), Map.of(), heads, headDim));
            assertEquals(config.vae(), LdmLayout.inferVae(s, Component.VAE.prefix()));
            config.textEncoders().forEach((c, t) -> assertEquals(t, LdmLayout.inferClip(s, c.prefix(), t.flavor())));
        }
        assertEquals(ModelFamilies.SD1, ModelFamilies.find(virtual(SD1)).orElseThrow());
        assertEquals(ModelFamilies.SD2, ModelFamilies.find(virtual(SD2)).orElseThrow());
        assertEquals(ModelFamilies.SDXL, ModelFamilies.find(virtual(SDXL)).orElseThrow());
    }

    @Test
    void familiesGiveTheirLatentFormatPredictionAndDefaults() {
        assertEquals(0.18215f, ModelFamilies.SD1.latentFormat().scale());
        assertEquals(0.18215f, ModelFamilies.SD2.latentFormat().scale());
        assertEquals(0.13025f, ModelFamilies.SDXL.latentFormat().scale());
        assertEquals(1, ModelFamilies.SD1.defaultClipSkip());
        assertEquals(2, ModelFamilies.SD2.defaultClipSkip());
        assertEquals(2, ModelFamilies.SDXL.defaultClipSkip());
        assertEquals(1.0f / 32, ModelFamilies.SDXL.vaeConvScale());
        assertEquals(1.0f, ModelFamilies.SD1.vaeConvScale());
        assertEquals(20, UnetConfig.SD2.heads(1280));
        assertEquals(20, UnetConfig.SDXL.heads(1280));
        assertEquals(8, UnetConfig.SD1.heads(1280));
    }

    @Test
    void tinyModelsOfEachFamilyRoundTrip() {
        List<TinySd15Writer.Builder> builders = List.of(TinySd15Writer.builder(), TinySd15Writer.sd2(),
                TinySd15Writer.sdxl());
        List<ModelFamily> families = List.of(ModelFamilies.SD1, ModelFamilies.SD2, ModelFamilies.SDXL);
        for (int i = 0; i < builders.size(); i++) {
            Path p = builders.get(i).write(dir.resolve("tiny" + i + ".safetensors"));
            assertEquals(families.get(i), family(p), p.toString());
            assertEquals(builders.get(i).config(), configure(p), p.toString());
        }
    }

    @Test
    void sd1VariantsRoundTripThroughInference() {
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
            assertEquals(b.config(), configure(p), p.toString());
        }
    }

    @Test
    void missingTensorIsNamed() {
        String victim = Component.UNET.name("output_blocks.1.1.transformer_blocks.0.attn2.to_v.weight");
        Path p = TinySd15Writer.builder().omit(victim).write(dir.resolve("missing.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertEquals(victim, e.tensor());
        assertTrue(e.getMessage().contains("missing (expected shape [64, 32])"), e.getMessage());
        assertTrue(e.getMessage().contains("missing.safetensors"), e.getMessage());
    }

    @Test
    void wrongShapeIsReportedWithExpectedAndFound() {
        String victim = Component.VAE.name("decoder.up.1.block.0.conv1.weight");
        Path p = TinySd15Writer.builder().reshape(victim, 64, 64, 3, 1).write(dir.resolve("shape.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertEquals(victim, e.tensor());
        assertTrue(e.getMessage().contains("expected shape [64, 64, 3, 3], found [64, 64, 3, 1]"), e.getMessage());
    }

    @Test
    void sdxlMissingPooledProjectionIsNamed() {
        String victim = SdxlFamily.CLIP_G.name("text_projection");
        Path p = TinySd15Writer.sdxl().omit(victim).write(dir.resolve("nopool.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertTrue(e.getMessage().contains("label_emb.0.0.weight") || e.getMessage().contains(victim), e.getMessage());
    }

    @Test
    void severalProblemsAreListedTogether() {
        Path p = TinySd15Writer.builder()
                .omit(Sd1Family.CLIP.name("final_layer_norm.bias"))
                .reshape(Sd1Family.CLIP.name("encoder.layers.1.mlp.fc2.weight"), 32, 64)
                .write(dir.resolve("two.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertTrue(e.getMessage().contains("2 tensors do not match"), e.getMessage());
        assertTrue(e.getMessage().contains("final_layer_norm.bias' missing (expected shape [32])"), e.getMessage());
        assertTrue(e.getMessage().contains("fc2.weight' expected shape [32, 128], found [32, 64]"), e.getMessage());
    }

    @Test
    void inconsistentResBlockCountsAreRejected() {
        Path p = TinySd15Writer.builder()
                .extra(Component.UNET.name("input_blocks.4.0.in_layers.2.weight"), 64, 64, 3, 3)
                .write(dir.resolve("res.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertTrue(e.getMessage().contains("level 1 has 2 ResBlocks but level 0 has 1"), e.getMessage());
    }

    @Test
    void hugeLayerCountsAreRefusedBeforeAnyGraph() {
        Path p = TinySd15Writer.builder()
                .extra(Sd1Family.CLIP.name("encoder.layers.100000.mlp.fc1.weight"), 128, 32)
                .write(dir.resolve("deep.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertTrue(e.getMessage().contains("at most 256 are accepted"), e.getMessage());
    }

    @Test
    void groupNormWidthsAreChecked() {
        Map<String, TensorInfo> t = new LinkedHashMap<>();
        String v = Component.VAE.prefix();
        for (Object[] e : new Object[][]{{"encoder.conv_in.weight", new long[]{40, 3, 3, 3}},
                {"encoder.down.0.block.0.conv1.weight", new long[]{40, 40, 3, 3}},
                {"decoder.conv_in.weight", new long[]{40, 4, 3, 3}}, {"post_quant_conv.weight", new long[]{4, 4, 1, 1}}}) {
            t.put(v + e[0], new TensorInfo(v + e[0], DType.F16, (long[]) e[1], 0, 0));
        }
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> LdmLayout.inferVae(new LdmLayout.Shapes(Path.of("gn.safetensors"), t), v));
        assertTrue(e.getMessage().contains("not a multiple of the 32 GroupNorm groups"), e.getMessage());
        assertTrue(e.getMessage().contains("gn.safetensors"), e.getMessage());
        Path p = TinySd15Writer.builder().modelChannels(32).write(dir.resolve("ok.safetensors"));
        assertEquals(32, configure(p).unet().modelChannels());
    }

    @Test
    void extraTensorsUnderAComponentAreIgnoredAndListed() {
        String extra = Component.VAE.name("loss.logvar");
        Path p = TinySd15Writer.builder().extra(extra, 1).extra("model_ema.decay", 1).write(dir.resolve("extra.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            ModelConfig c = ModelFamilies.SD1.configure(f);
            assertEquals(List.of(extra), LdmLayout.validate(p, f.tensors(), c, "SD 1.x", Sd1Family.POSITION_IDS::equals).ignored());
        }
    }

    @Test
    void alphasCumprodMustHaveAThousandValues() {
        Path p = TinySd15Writer.builder().alphasCumprod(false).extra(LdmLayout.ALPHAS_CUMPROD, 999)
                .write(dir.resolve("ac.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertEquals(LdmLayout.ALPHAS_CUMPROD, e.tensor());
        assertTrue(e.getMessage().contains("shape [1000], found F16 [999]"), e.getMessage());
    }

    @Test
    void integerWeightsAreRejected() throws IOException {
        TinySd15Writer.Builder b = TinySd15Writer.builder().omit(Component.UNET.name("out.2.bias"));
        SafetensorsWriter w = b.toWriter();
        w.addInts(Component.UNET.name("out.2.bias"), new long[]{4}, new int[]{1, 2, 3, 4});
        Path p = dir.resolve("int.safetensors");
        w.write(p);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> configure(p));
        assertTrue(e.getMessage().contains("has dtype I32"), e.getMessage());
    }

    @Test
    void sdxlSizeVectorMatchesSdcppsEmbedding() {
        float[] pooled = new float[4];
        float[] y = SdxlConditioner.vector(pooled, 128, 64);
        assertEquals(4 + 6 * 256, y.length);
        // original height 64: cos(64 · f_0) at offset 4, sin at offset 4 + 128
        assertEquals((float) Math.cos(64f), y[4], 0f);
        assertEquals((float) Math.sin(64f), y[4 + 128], 0f);
        // width 128 second; crop 0 → cos 1, sin 0
        assertEquals((float) Math.cos(128f), y[4 + 256], 0f);
        assertEquals(1f, y[4 + 512], 0f);
        assertEquals(0f, y[4 + 512 + 128], 0f);
        int[] ids = new int[77];
        ids[0] = 49406;
        ids[1] = 320;
        ids[2] = 49407;
        java.util.Arrays.fill(ids, 3, 77, 49407);
        int[] g = SdxlConditioner.openClipIds(ids, 49407);
        assertEquals(49407, g[2]);
        assertEquals(0, g[3]);
        assertEquals(0, g[76]);
        assertEquals(2, SdxlConditioner.firstEos(ids, 49407));
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
