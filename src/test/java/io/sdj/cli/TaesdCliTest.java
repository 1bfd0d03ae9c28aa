package io.sdj.cli;

import io.sdj.image.ImageCompare;
import io.sdj.image.PngInfo;
import io.sdj.vae.Taesd;
import io.sdj.vae.TaesdFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sdj command with TAESD, previews, VAE tiling and flash attention on a tiny model and a random TAESD. */
class TaesdCliTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path taesd;

    @BeforeAll
    static void write() {
        model = CliRun.tinyModel(dir);
        taesd = dir.resolve("taesd.safetensors");
        TaesdFiles.write(taesd, 1);
    }

    static String[] run(Path output, String... more) {
        String[] base = {"-m", model.toString(), "--tokenizer", CliRun.merges().toString(), "-p", "a lovely cat",
                "-W", "64", "-H", "64", "--steps", "2", "--backend", "cpu", "-t", "2", "-o", output.toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    static void ok(CliRun r) {
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void taesdDecodesAndPreviewOnlyLeavesTheFinalImageAlone() throws IOException {
        Path plain = dir.resolve("plain.png");
        ok(CliRun.of(run(plain)));
        Path tae = dir.resolve("tae.png");
        ok(CliRun.of(run(tae, "--taesd", taesd.toString())));
        BufferedImage img = ImageIO.read(tae.toFile());
        assertEquals(64, img.getWidth());
        assertTrue(ImageCompare.compare(plain, tae).meanAbs() > 1, "TAESD decodes differently from the KL VAE");

        Path fin = dir.resolve("final.png");
        Path preview = dir.resolve("preview.png");
        ok(CliRun.of(run(fin, "--taesd", taesd.toString(), "--taesd-preview-only", "--preview", "tae",
                "--preview-path", preview.toString())));
        assertEquals(0, ImageCompare.compare(plain, fin).maxAbs(), "the final image is the KL VAE's");
        // the last preview decodes the last denoised latent, which is the final latent: the TAESD image
        assertEquals(0, ImageCompare.compare(tae, preview).maxAbs());
        assertTrue(PngInfo.readTextChunks(preview).isEmpty(), "previews carry no text chunk");
        assertTrue(PngInfo.readParameters(fin).isPresent());

        Path noisy = dir.resolve("noisy.png");
        ok(CliRun.of(run(dir.resolve("n.png"), "--taesd", taesd.toString(), "--preview", "tae", "--preview-noisy",
                "--preview-path", noisy.toString())));
        assertTrue(ImageCompare.compare(tae, noisy).meanAbs() > 0, "the noisy preview is the model input");
    }

    @Test
    void taesdEncodesInitImages() throws IOException {
        Path init = dir.resolve("init.png");
        BufferedImage b = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                b.setRGB(x, y, (x * 4) << 16 | ((x / 8 + y / 8) % 2 == 0 ? 208 : 48) << 8 | y * 4);
            }
        }
        ImageIO.write(b, "png", init.toFile());
        Path a = dir.resolve("i2i-a.png");
        Path c = dir.resolve("i2i-c.png");
        ok(CliRun.of(run(a, "--taesd", taesd.toString(), "-i", init.toString(), "--strength", "0.6")));
        ok(CliRun.of(run(c, "--taesd", taesd.toString(), "-i", init.toString(), "--strength", "0.6")));
        assertEquals(0, ImageCompare.compare(a, c).maxAbs(), "deterministic");
    }

    @Test
    void badTaesdFilesAreClearErrors() {
        CliRun missing = CliRun.of(run(dir.resolve("x.png"), "--taesd", dir.resolve("nope.safetensors").toString()));
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nope.safetensors"), missing.err());

        Path noEncoder = dir.resolve("decoder-only.safetensors");
        TaesdFiles.write(noEncoder, TaesdFiles.all(), Set.copyOf(Taesd.expectedTensors(Taesd.Part.ENCODER).keySet()), 2);
        CliRun r = CliRun.of(run(dir.resolve("y.png"), "--taesd", noEncoder.toString()));
        assertEquals(1, r.status(), "as in sd.cpp, --taesd needs the encoder even for txt2img");
        assertTrue(r.err().contains("encoder.layers.0.weight") && r.err().contains("decoder-only.safetensors"), r.err());
        ok(CliRun.of(run(dir.resolve("z.png"), "--taesd", noEncoder.toString(), "--taesd-preview-only", "--preview",
                "tae", "--preview-path", dir.resolve("z-preview.png").toString())));
        assertTrue(Files.isRegularFile(dir.resolve("z-preview.png")));

        CliRun noTaesd = CliRun.of(run(dir.resolve("w.png"), "--preview", "tae"));
        assertEquals(2, noTaesd.status());
        assertTrue(noTaesd.err().contains("--taesd"), noTaesd.err());
    }

    @Test
    void tilingAndFlashAttentionRun() {
        Path plain = dir.resolve("p2.png");
        ok(CliRun.of(run(plain)));
        Path tiled = dir.resolve("tiled.png");
        ok(CliRun.of(run(tiled, "--vae-tiling", "--vae-tile-size", "4x4")));
        Path fa = dir.resolve("fa.png");
        ok(CliRun.of(run(fa, "--diffusion-fa")));
        ImageCompare.Difference d = ImageCompare.compare(plain, fa);
        assertTrue(d.meanAbs() < 1 && d.maxAbs() <= 8, "flash attention stays close: " + d);
        Path all = dir.resolve("fa-all.png");
        ok(CliRun.of(run(all, "--fa")));
        // the same pixels are a property of ggml's own kernels (with BLAS, im2col's products are sgemm's)
        Path ggml = dir.resolve("ggml.png");
        ok(CliRun.of(run(ggml, "--no-blas")));
        Path direct = dir.resolve("direct.png");
        ok(CliRun.of(run(direct, "--vae-conv-direct", "--no-blas")));
        assertEquals(0, ImageCompare.compare(ggml, direct).maxAbs(), "on the CPU direct convolution gives the same pixels");
        Path tae = dir.resolve("tae2.png");
        Path taeDirect = dir.resolve("tae-direct.png");
        ok(CliRun.of(run(tae, "--taesd", taesd.toString(), "--no-blas")));
        ok(CliRun.of(run(taeDirect, "--taesd", taesd.toString(), "--vae-conv-direct", "--no-blas")));
        assertEquals(0, ImageCompare.compare(tae, taeDirect).maxAbs());
    }
}
