package io.sdj.pipeline;

import io.sdj.model.DiffusersFixture;
import io.sdj.model.DiffusersFolder;
import io.sdj.model.DiffusersFixture.Blob;
import io.sdj.model.GoldenModel;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelFiles;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A diffusers folder and the single file it was converted from give the same image, bit for bit, for SD 1.x, SD 2.x
 * and SDXL; so does a checkpoint split into component files (sd-cli's --diffusion-model, --vae, --clip_l, --clip_g).
 */
class DiffusersPipelineTest {
    @TempDir
    Path dir;

    private static int[] image(UnaryOperator<StableDiffusion.Builder> files) {
        try (StableDiffusion sd = files.apply(StableDiffusion.builder()).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).build()) {
            return pixels(sd);
        }
    }

    private static int[] pixels(StableDiffusion sd) {
        BufferedImage img = sd.generate(GenerationRequest.builder("a lovely cat").size(64, 64).steps(2).seed(42)
                .build()).images().getFirst().image();
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private static TinySd15Writer.Builder tiny(TinySd15Writer.Family f) {
        return switch (f) {
            case SD1 -> TinySd15Writer.builder().unetHeads(8).vaeChMult(1, 1, 1, 1).alphasCumprod(false);
            case SD2 -> TinySd15Writer.sd2().vaeChMult(1, 1, 1, 1).alphasCumprod(false);
            case SDXL -> TinySd15Writer.sdxl().vaeChMult(1, 1, 1, 1);
        };
    }

    @Test
    void aFolderGivesTheImageOfItsSingleFile() {
        for (TinySd15Writer.Family f : TinySd15Writer.Family.values()) {
            TinySd15Writer.Builder b = tiny(f);
            Path single = b.write(dir.resolve(f + ".safetensors"));
            Path folder = DiffusersFixture.writeFolder(single, b.config(), f, dir.resolve(f + "-diffusers"),
                    f == TinySd15Writer.Family.SD2 ? DiffusersFixture.VaeAttention.LEGACY : DiffusersFixture.VaeAttention.CURRENT,
                    GoldenModel.merges());
            int[] fromSingle = image(s -> s.model(single));
            // the folder's own tokenizer/ (no tokenizer given)
            int[] fromFolder;
            try (StableDiffusion sd = StableDiffusion.builder().model(folder).backend("cpu").threads(2).build()) {
                assertEquals(f.name().replace("SD1", "SD 1.x").replace("SD2", "SD 2.x"), sd.family().displayName());
                assertEquals(folder.resolve("tokenizer/merges.txt"), sd.tokenizer().source());
                assertEquals(b.config(), sd.config());
                fromFolder = pixels(sd);
            }
            assertArrayEquals(fromSingle, fromFolder, f + ": the folder's image differs from its single file's");
        }
    }

    @Test
    void componentFilesGiveTheImageOfTheWholeFile() {
        TinySd15Writer.Builder b = tiny(TinySd15Writer.Family.SD1);
        ModelConfig config = b.config();
        Path whole = b.write(dir.resolve("whole.safetensors"));
        Map<String, Blob> all = DiffusersFixture.readAll(whole);
        Map<String, String> meta = DiffusersFixture.metadata(whole);
        // bare LDM names (as sd.cpp's component files), a diffusers U-Net, an LDM-prefixed VAE, transformers CLIP
        Path unetBare = DiffusersFixture.write(dir.resolve("unet.safetensors"),
                DiffusersFixture.reprefixed(all, "model.diffusion_model.", ""), meta);
        Path unetDiffusers = DiffusersFixture.write(dir.resolve("unet-diffusers.safetensors"),
                DiffusersFixture.diffusersUnet(all, config.unet()), meta);
        Path vaeBare = DiffusersFixture.write(dir.resolve("vae.safetensors"),
                DiffusersFixture.reprefixed(all, "first_stage_model.", ""), Map.of());
        Path vaePrefixed = DiffusersFixture.write(dir.resolve("vae-ldm.safetensors"),
                DiffusersFixture.reprefixed(all, "first_stage_model.", "first_stage_model."), Map.of());
        Path clipL = DiffusersFixture.write(dir.resolve("clip_l.safetensors"),
                DiffusersFixture.reprefixed(all, "cond_stage_model.transformer.", ""), Map.of());

        int[] expected = image(s -> s.model(whole));
        assertArrayEquals(expected, image(s -> s.model(whole).vae(vaeBare)), "checkpoint + --vae");
        assertArrayEquals(expected, image(s -> s.model(whole).vae(vaePrefixed).clipL(clipL)), "checkpoint + --vae + --clip_l");
        assertArrayEquals(expected, image(s -> s.diffusionModel(unetBare).vae(vaeBare).clipL(clipL)),
                "--diffusion-model + --vae + --clip_l, no checkpoint");
        assertArrayEquals(expected, image(s -> s.diffusionModel(unetDiffusers).vae(vaeBare).clipL(clipL)),
                "a diffusers U-Net as --diffusion-model");
    }

    @Test
    void sdxlComponentFiles() {
        TinySd15Writer.Builder b = tiny(TinySd15Writer.Family.SDXL);
        Path whole = b.write(dir.resolve("xl.safetensors"));
        Map<String, Blob> all = DiffusersFixture.readAll(whole);
        Map<String, String> meta = DiffusersFixture.metadata(whole);
        Path unet = DiffusersFixture.write(dir.resolve("unet.safetensors"),
                DiffusersFixture.reprefixed(all, "model.diffusion_model.", ""), meta);
        Path clipL = DiffusersFixture.write(dir.resolve("clip_l.safetensors"),
                DiffusersFixture.reprefixed(all, "conditioner.embedders.0.transformer.", ""), Map.of());
        Path clipG = DiffusersFixture.write(dir.resolve("clip_g.safetensors"),
                DiffusersFixture.transformersFromOpenClip(all, "conditioner.embedders.1.model.", true), Map.of());
        Path clipGOpenClip = DiffusersFixture.write(dir.resolve("clip_g-openclip.safetensors"),
                DiffusersFixture.reprefixed(all, "conditioner.embedders.1.model.", ""), Map.of());
        Path vae = DiffusersFixture.write(dir.resolve("vae.safetensors"),
                DiffusersFixture.reprefixed(all, "first_stage_model.", ""), Map.of());

        int[] expected = image(s -> s.model(whole));
        // the checkpoint's VAE: the same 1/32 conv scale, the same image
        assertArrayEquals(expected, image(s -> s.model(whole).diffusionModel(unet).clipL(clipL).clipG(clipG)),
                "checkpoint + --diffusion-model + --clip_l + --clip_g (transformers naming)");
        assertArrayEquals(expected, image(s -> s.model(whole).clipG(clipGOpenClip)), "--clip_g in OpenCLIP naming");
        // a separate VAE runs at full conv scale (sd.cpp), so the image may differ in the last bits only
        int[] separate = image(s -> s.diffusionModel(unet).clipL(clipL).clipG(clipG).vae(vae));
        long sum = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int sh = 0; sh < 24; sh += 8) {
                sum += Math.abs(((expected[i] >> sh) & 255) - ((separate[i] >> sh) & 255));
            }
        }
        double mean = sum / (3.0 * expected.length);
        assertTrue(mean < 1.0, "components with --vae: mean |Δ| " + mean);
    }

    @Test
    void anEncoderWithoutItsLastLayerSkipsOneFewer() {
        assertEquals(1, DiffusersFolder.droppedFinalLayers(1024, 23));
        assertEquals(0, DiffusersFolder.droppedFinalLayers(1024, 24));
        assertEquals(0, DiffusersFolder.droppedFinalLayers(768, 23));
        Path plain = tiny(TinySd15Writer.Family.SD2).write(dir.resolve("plain.safetensors"));
        Path marked = tiny(TinySd15Writer.Family.SD2).metadata(DiffusersFolder.DROPPED_TEXT_LAYERS_KEY, "1")
                .write(dir.resolve("marked.safetensors"));
        try (StableDiffusion a = StableDiffusion.builder().model(plain).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).build();
             StableDiffusion b = StableDiffusion.builder().model(marked).tokenizer(GoldenModel.merges()).backend("cpu")
                .threads(2).build()) {
            GenerationRequest skip1 = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(42).clipSkip(1).build();
            GenerationRequest byDefault = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(42).build();
            int[] expected = rgb(a.generate(skip1));
            assertArrayEquals(expected, rgb(b.generate(byDefault)), "SD 2.x default clip skip 2 on 1 fewer layer");
            io.sdj.InvalidParameterException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.sdj.InvalidParameterException.class, () -> b.generate(skip1));
            assertTrue(e.getMessage().contains("last layer"), e.getMessage());
        }
    }

    private static int[] rgb(GenerationResult r) {
        BufferedImage img = r.images().getFirst().image();
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void sdxlVaeConvScaleFollowsSdCpp() {
        TinySd15Writer.Builder b = tiny(TinySd15Writer.Family.SDXL);
        Path whole = b.write(dir.resolve("xl.safetensors"));
        Path sd1 = tiny(TinySd15Writer.Family.SD1).write(dir.resolve("sd1.safetensors"));
        try (Backend be = Backend.open("cpu")) {
            ModelConfig cfg = b.config();
            var xl = io.sdj.family.ModelFamilies.SDXL;
            var one = io.sdj.family.ModelFamilies.SD1;
            assertEquals(1f / 32, parts(ModelFiles.of(whole), xl, cfg, be).vaeConvScale());
            assertEquals(1f, parts(new ModelFiles(whole, null, whole, null, null), xl, cfg, be).vaeConvScale());
            assertEquals(1f, parts(ModelFiles.of(sd1), one, cfg, be).vaeConvScale());
        }
    }

    private static ModelParts parts(ModelFiles files, io.sdj.family.ModelFamily family, ModelConfig cfg, Backend be) {
        return new ModelParts(files, family, cfg, be, family.weightTypes(null), null, ProgressListener.NONE,
                ModelParts.Options.DEFAULT);
    }
}
