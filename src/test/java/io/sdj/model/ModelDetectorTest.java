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

    private UnsupportedModelException rejected(Path p) {
        return assertThrows(UnsupportedModelException.class, () -> Sd1Checkpoint.open(p).close());
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void sd2LikeFileIsRecognisedAndRejected() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.input_blocks.0.0.weight", 320, 4, 3, 3);
        f16(w, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", 320, 1024);
        f16(w, "cond_stage_model.model.token_embedding.weight", 16, 1024);
        f16(w, "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", 12, 4);
        f16(w, "first_stage_model.decoder.conv_in.weight", 8, 4, 3, 3);
        Path p = dir.resolve("sd2.safetensors");
        w.write(p);
        UnsupportedModelException e = rejected(p);
        assertEquals(ModelVersion.SD2, e.version());
        assertMessage(e, "sd2.safetensors", "recognised as SD 2.x", "cross-attention context 1024", "unsupported (yet)",
                "5 tensors", "cond_stage_model.model (2)", "model.diffusion_model (2)");
    }

    @Test
    void sd2UnetWithoutTextEncoderIsStillSd2ByContextWidth() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.input_blocks.0.0.weight", 8, 4, 3, 3);
        f16(w, "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight", 8, 1024);
        Path p = dir.resolve("sd2unet.safetensors");
        w.write(p);
        assertEquals(ModelVersion.SD2, rejected(p).version());
    }

    @Test
    void sdxlLikeFileIsRecognisedAndRejected() {
        SafetensorsWriter w = w();
        f16(w, "model.diffusion_model.input_blocks.0.0.weight", 320, 4, 3, 3);
        f16(w, "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", 640, 2048);
        f16(w, "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight", 16, 768);
        f16(w, "conditioner.embedders.1.model.token_embedding.weight", 16, 1280);
        Path p = dir.resolve("sdxl.safetensors");
        w.write(p);
        UnsupportedModelException e = rejected(p);
        assertEquals(ModelVersion.SDXL, e.version());
        assertMessage(e, "recognised as SDXL", "conditioner.embedders", "context 2048", "unsupported (yet)", "4 tensors");
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
        assertEquals(ModelVersion.UNKNOWN, e.version());
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
        assertEquals(ModelVersion.DIFFUSERS, e.version());
        assertMessage(e, "diffusers", "unsupported for now", "down_blocks (1)");

        Path folder = Files.createDirectories(dir.resolve("sd15-diffusers"));
        Files.writeString(folder.resolve("model_index.json"), "{}");
        Files.createDirectories(folder.resolve("unet"));
        UnsupportedModelException f = rejected(folder);
        assertEquals(ModelVersion.DIFFUSERS, f.version());
        assertMessage(f, "sd15-diffusers", "diffusers folder", "unsupported for now");

        Path plain = Files.createDirectories(dir.resolve("plain"));
        assertMessage(rejected(plain), "is a directory");
    }

    @Test
    void otherContainersAreRejected() throws IOException {
        Path zip = dir.resolve("model.ckpt");
        Files.write(zip, new byte[]{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        assertMessage(rejected(zip), "zip archive", "convert");
        Path gguf = dir.resolve("model.gguf");
        Files.write(gguf, new byte[]{'G', 'G', 'U', 'F', 3, 0, 0, 0, 0});
        assertMessage(rejected(gguf), "GGUF");
        Path pickle = dir.resolve("old.ckpt");
        Files.write(pickle, new byte[]{(byte) 0x80, 2, 'c', 'x', 0, 0, 0, 0, 0, 0});
        assertMessage(rejected(pickle), "pickle");
    }

    @Test
    void inpaintingUnetIsRecognised() {
        Path p = TinySd15Writer.builder().inChannels(9).write(dir.resolve("inpaint.safetensors"));
        UnsupportedModelException e = rejected(p);
        assertEquals(ModelVersion.SD1_INPAINT, e.version());
        assertMessage(e, "inpainting", "9 U-Net input channels");
    }

    @Test
    void contextWidthMustMatchTheTextEncoder() {
        Path p = TinySd15Writer.builder().contextDim(48).write(dir.resolve("mismatch.safetensors"));
        UnsupportedModelException e = rejected(p);
        assertEquals(ModelVersion.UNKNOWN, e.version());
        assertMessage(e, "cross-attention context 48");
    }

    @Test
    void tinyModelIsSd1() {
        Path p = TinySd15Writer.builder().write(dir.resolve("tiny.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(ModelVersion.SD1, ModelDetector.detect(f));
            ModelDetector.requireSd1(f);
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
