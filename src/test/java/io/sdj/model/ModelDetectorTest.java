package io.sdj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelDetectorTest {

    @TempDir
    Path dir;

    private static SafetensorsWriter w() {
        return new SafetensorsWriter();
    }

    private static SafetensorsWriter f16(SafetensorsWriter w, String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return w.addFloats(name, DType.F16, shape, new float[(int) n]);
    }

    /** What loading does up to the family's configuration. */
    static void open(Path p) {
        ModelDetector.checkContainer(p);
        try (TensorSource f = TensorSources.open(p)) {
            io.sdj.family.ModelFamilies.detect(f).configure(f);
        }
    }

    private UnsupportedModelException rejected(Path p) {
        return assertThrows(UnsupportedModelException.class, () -> open(p));
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void sd3AndFluxAreRecognisedAndRejected() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight", 12, 4);
        f16(w, "model.diffusion_model.x_embedder.proj.weight", 4, 4, 2, 2);
        Path p = dir.resolve("sd3.safetensors");
        w.write(p);
        UnsupportedModelException e = rejected(p);
        assertEquals("SD 3 / SD 3.5 (MMDiT 'joint_blocks')", e.recognisedAs());
        assertMessage(e, "sd3.safetensors", "recognised as SD 3", "not this kind", "2 tensors");

        SafetensorsWriter f = w();
        f16(f, "double_blocks.0.img_attn.qkv.weight", 12, 4);
        Path flux = dir.resolve("flux.safetensors");
        f.write(flux);
        assertMessage(rejected(flux), "FLUX");
    }

    @Test
    void sdxlRefinerIsRecognisedAndRejected() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.input_blocks.0.0.weight", 384, 4, 3, 3);
        f16(w, "conditioner.embedders.0.model.token_embedding.weight", 16, 1280);
        Path p = dir.resolve("refiner.safetensors");
        w.write(p);
        assertMessage(rejected(p), "SDXL refiner");
    }

    @Test
    void familyFilesWithMissingPartsNameTheTensor() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.input_blocks.0.0.weight", 320, 4, 3, 3);
        f16(w, "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", 640, 2048);
        f16(w, "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight", 16, 768);
        f16(w, "conditioner.embedders.1.model.token_embedding.weight", 16, 1280);
        Path p = dir.resolve("sdxl.safetensors");
        w.write(p);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> open(p));
        assertMessage(e, "sdxl.safetensors", "model.diffusion_model.out.2.weight", "missing");
    }

    @Test
    void randomFileIsRejectedWithWhatWasFound() {
        SafetensorsWriter w = w();
        for (int i = 0; i < 3; i++) {
            f16(w, "encoder.layer." + i + ".attention.self.query.weight", 4, 4);
        }
        f16(w, "lm_head.weight", 4, 4);
        f16(w, "bias", 4);
        Path p = dir.resolve("bert.safetensors");
        w.write(p);
        UnsupportedModelException e = rejected(p);
        assertEquals("unknown", e.recognisedAs());
        assertMessage(e, "not a recognised Stable Diffusion checkpoint", "5 tensors", "encoder.layer (3)",
                "lm_head (1)", "bias (1)", "model.diffusion_model.*");
    }

    @Test
    void emptyFileIsRejected() {
        Path p = dir.resolve("empty.safetensors");
        w().write(p);
        assertMessage(rejected(p), "0 tensors");
    }

    @Test
    void diffusersComponentFileAndFolderAreRejected() throws IOException {
        SafetensorsWriter w = w();
        f16(w, "conv_in.weight", 320, 4, 3, 3);
        f16(w, "down_blocks.0.resnets.0.conv1.weight", 320, 320, 3, 3);
        f16(w, "time_embedding.linear_1.weight", 1280, 320);
        Path p = dir.resolve("diffusion_pytorch_model.safetensors");
        w.write(p);
        UnsupportedModelException e = rejected(p);
        assertMessage(e, "diffusers-named component file", "not this kind", "down_blocks (1)");

        Path folder = Files.createDirectories(dir.resolve("sd15-diffusers"));
        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": \"FluxPipeline\"}");
        Files.createDirectories(folder.resolve("unet"));
        UnsupportedModelException f = rejected(folder);
        assertEquals("FluxPipeline", f.recognisedAs());
        assertMessage(f, "sd15-diffusers", "is a diffusers FluxPipeline folder", "StableDiffusionXLPipeline");

        Path plain = Files.createDirectories(dir.resolve("plain"));
        assertMessage(rejected(plain), "is a directory");
    }

    @Test
    void filesOfNoKnownFormAreRejectedWithTheirFirstBytes() throws IOException {
        Path junk = dir.resolve("model.bin");
        Files.write(junk, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> open(junk));
        assertMessage(e, "model.bin", "not a model file sdj reads", "0102030405060708");
        Path truncatedZip = dir.resolve("model.ckpt");
        Files.write(truncatedZip, new byte[]{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        assertMessage(assertThrows(ModelFormatException.class, () -> open(truncatedZip)), "model.ckpt");
    }

    @Test
    void inpaintingUnetIsRecognised() {
        Path p = TinySd15Writer.builder().inChannels(9).write(dir.resolve("inpaint.safetensors"));
        UnsupportedModelException e = rejected(p);
        assertEquals("an inpainting U-Net (9 input channels)", e.recognisedAs());
        assertMessage(e, "inpainting", "9 input channels");
    }

    @Test
    void contextWidthMustMatchTheTextEncoder() {
        Path p = TinySd15Writer.builder().contextDim(48).write(dir.resolve("mismatch.safetensors"));
        UnsupportedModelException e = rejected(p);
        assertEquals("unknown", e.recognisedAs());
        assertMessage(e, "cross-attention context 48");
    }

    @Test
    void tinyModelIsSd1() {
        Path p = TinySd15Writer.builder().write(dir.resolve("tiny.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(io.sdj.family.ModelFamilies.SD1, io.sdj.family.ModelFamilies.detect(f));
            assertEquals(null, ModelDetector.unsupportedKind(f.tensors()));
            assertEquals(32L, ModelDetector.contextDim(f.tensors()).orElseThrow());
        }
    }

    @Test
    void prefixesUseTwoSegmentsUnlessTheSecondIsANumber() {
        assertEquals("model.diffusion_model", ModelDetector.prefixOf("model.diffusion_model.out.0.weight"));
        assertEquals("down_blocks", ModelDetector.prefixOf("down_blocks.0.resnets.0.conv1.weight"));
        assertEquals("alphas_cumprod", ModelDetector.prefixOf("alphas_cumprod"));
        assertEquals("model_ema", ModelDetector.prefixOf("model_ema.decay"));
        assertEquals("lm_head", ModelDetector.prefixOf("lm_head.weight"));
    }
}
