package io.sdj.cli;

import io.sdj.image.ImageParameters;
import io.sdj.image.PngInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Main#run} in-process: exit codes, error lines, and real runs on a tiny SD1-shaped model. */
class MainTest {
    @TempDir
    static Path shared;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = CliRun.tinyModel(shared);
    }

    /** The common arguments of a fast run: tiny model, shared tokenizer, 64×64, two steps, CPU. */
    private static String[] fast(Path output, String... more) {
        String[] base = {"-m", model.toString(), "--tokenizer", CliRun.merges().toString(), "-p", "a lovely cat",
                "-W", "64", "-H", "64", "--steps", "2", "--backend", "cpu", "-t", "2", "-o", output.toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    private static void assertOneErrorLine(CliRun r, int status, String fragment) {
        assertEquals(status, r.status(), r.err());
        assertEquals(1, r.errLines().length, () -> "one line expected:\n" + r.err());
        assertTrue(r.err().startsWith("sdj: error: "), r.err());
        assertTrue(r.err().contains(fragment), () -> "'" + r.err() + "' lacks '" + fragment + "'");
        assertFalse(r.err().contains("\tat "), "no stack trace without -v");
        assertEquals("", r.out());
    }

    @Test
    void helpGoesToStdout() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("usage: sdj"), r.out());
        assertEquals("", r.err());
        assertEquals(0, CliRun.of("-h").status());
    }

    @Test
    void listDevicesShowsTheCpu() {
        CliRun r = CliRun.of("--list-devices");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("CPU ")), r.out());
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertOneErrorLine(CliRun.of("-m", "m", "--frobnicate"), 2, "unknown argument: --frobnicate");
        assertOneErrorLine(CliRun.of("-m", "m", "--steps", "ten"), 2, "--steps: expected an integer, got 'ten'");
        assertOneErrorLine(CliRun.of("-m", "m", "--cfg-scale", "x"), 2, "--cfg-scale: expected a number");
        assertOneErrorLine(CliRun.of("-m", "m", "--sampling-method", "euler_x"), 2, "unknown sampler 'euler_x'");
        assertOneErrorLine(CliRun.of("-p", "cat"), 2, "-m/--model");
        assertOneErrorLine(CliRun.of("-m", "m", "--strength", "0.5"), 2, "-i/--init-img");
        assertOneErrorLine(CliRun.of("-m", "m", "--steps"), 2, "--steps: missing value");
    }

    @Test
    void missingAndBrokenFilesExitWithOne(@TempDir Path dir) throws IOException {
        assertOneErrorLine(CliRun.of("-m", dir.resolve("nope.safetensors").toString()), 1,
                "model file not found: " + dir.resolve("nope.safetensors"));
        assertOneErrorLine(CliRun.of("-m", dir.toString()), 1, "model is not a file");

        Path empty = Files.createFile(dir.resolve("empty.safetensors"));
        assertOneErrorLine(CliRun.of("-m", empty.toString(), "--tokenizer", CliRun.merges().toString()), 1,
                "empty.safetensors");
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        Path random = Files.write(dir.resolve("random.safetensors"), noise);
        assertOneErrorLine(CliRun.of("-m", random.toString(), "--tokenizer", CliRun.merges().toString()), 1,
                "random.safetensors");
        assertOneErrorLine(CliRun.of("-m", model.toString(), "--tokenizer", dir.resolve("none.txt").toString()), 1,
                "tokenizer not found");
        // the tiny model has no tokenizer beside it
        assertOneErrorLine(CliRun.of("-m", model.toString()), 1, "--tokenizer");
        assertOneErrorLine(CliRun.of(fast(dir.resolve("o.png"), "-i", dir.resolve("none.png").toString())), 1,
                "init image not found");
    }

    @Test
    void unknownBackendIsAUsageError(@TempDir Path dir) {
        assertOneErrorLine(CliRun.of(fast(dir.resolve("o.png"), "--backend", "tpu")), 2, "unknown backend 'tpu'");
    }

    @Test
    void anInitImageOfAnOddSizeIsAlignedUpToTheModelsMultiple(@TempDir Path dir) throws IOException {
        Path init = dir.resolve("init.png");
        ImageIO.write(new BufferedImage(100, 60, BufferedImage.TYPE_INT_RGB), "png", init.toFile());
        Path out = dir.resolve("aligned.png");
        CliRun r = CliRun.of("-m", model.toString(), "--tokenizer", CliRun.merges().toString(), "-i", init.toString(),
                "--steps", "1", "-o", out.toString());
        assertEquals(0, r.status(), r.toString());
        BufferedImage img = ImageIO.read(out.toFile());
        // the multiple: VAE 8 × sd.cpp's U-Net factor 8 = 64
        assertEquals(128, img.getWidth());
        assertEquals(64, img.getHeight());
        assertTrue(r.out().contains("model: SD 1.x, eps-prediction, latent 4 channels, scale 0.18215, regular attention"
                + " in the U-Net"), "a 16x8 latent keeps regular attention: " + r.out());
    }

    @Test
    void diffusionFaAndNoFaChangeOnlyRoundingLevelPixels(@TempDir Path dir) throws IOException {
        Path flash = dir.resolve("flash.png");
        Path regular = dir.resolve("regular.png");
        CliRun a = CliRun.of(fast(flash, "--diffusion-fa"));
        CliRun b = CliRun.of(fast(regular, "--no-fa"));
        assertEquals(0, a.status(), a.toString());
        assertEquals(0, b.status(), b.toString());
        assertTrue(a.out().contains("flash attention in the U-Net"), a.out());
        assertTrue(b.out().contains("regular attention in the U-Net"), b.out());
        BufferedImage x = ImageIO.read(flash.toFile());
        BufferedImage y = ImageIO.read(regular.toFile());
        int max = 0;
        for (int py = 0; py < x.getHeight(); py++) {
            for (int px = 0; px < x.getWidth(); px++) {
                int p = x.getRGB(px, py);
                int q = y.getRGB(px, py);
                for (int shift = 0; shift < 24; shift += 8) {
                    max = Math.max(max, Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff)));
                }
            }
        }
        assertTrue(max <= 8, "flash attention rounds k and v to f16: small differences only, got max " + max);
    }

    @Test
    void verboseErrorsCarryTheStackTrace(@TempDir Path dir) {
        CliRun r = CliRun.of("-m", dir.resolve("nope.safetensors").toString(), "-v");
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("sdj: error: model file not found"), r.err());
        assertTrue(r.err().contains("\tat io.sdj.cli.Main"), r.err());
    }

    @Test
    void textToImageWritesAPngWithSdClisParameters(@TempDir Path dir) {
        Path out = dir.resolve("sub").resolve("cat.png");
        CliRun r = CliRun.of(fast(out));
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.isRegularFile(out), r.out());
        String expected = ImageParameters.builder().prompt("a lovely cat").steps(2).size(64, 64).seed(42)
                .model(model.toString()).build().toInfotext();
        assertEquals(expected, PngInfo.readParameters(out).orElseThrow());
        assertTrue(expected.contains("Model: tiny-sd15.safetensors, RNG: cuda, Sampler: euler_a discrete, "),
                expected);
        assertTrue(expected.contains("Version: sdj, "), expected);
        BufferedImage img = read(out);
        assertEquals(64, img.getWidth());
        assertEquals(64, img.getHeight());
        assertTrue(r.out().contains("saved " + out + " (seed 42, 64x64)"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("timings: load ") && l.contains("text encoding ")
                && l.contains("sampling 2 steps in ") && l.contains("s/it") && l.contains("decoding ")), r.out());
        assertTrue(r.err().contains("sampling: step 2/2"), r.err());
    }

    @Test
    void aBatchOfTwoIsNumberedAndSeededLikeSdCli(@TempDir Path dir) {
        CliRun r = CliRun.of(fast(dir.resolve("out.png"), "-b", "2", "-s", "7", "--sampling-method", "euler",
                "--scheduler", "karras", "--rng", "cpu", "--cfg-scale", "1"));
        assertEquals(0, r.status(), r.err());
        Path first = dir.resolve("out_0.png");
        Path second = dir.resolve("out_1.png");
        assertFalse(Files.exists(dir.resolve("out.png")));
        for (int i = 0; i < 2; i++) {
            Path f = i == 0 ? first : second;
            String expected = ImageParameters.builder().prompt("a lovely cat").steps(2).size(64, 64).seed(7 + i)
                    .cfgScale(1).sampleMethod("euler").scheduler("karras").rng("cpu").model(model.toString())
                    .build().toInfotext();
            assertEquals(expected, PngInfo.readParameters(f).orElseThrow());
            assertTrue(r.out().contains("saved " + f + " (seed " + (7 + i) + ", 64x64)"), r.out());
        }
        assertFalse(java.util.Arrays.equals(pixels(read(first)), pixels(read(second))), "seeds 7 and 8 differ");
    }

    @Test
    void sameSeedSameImage(@TempDir Path dir) {
        assertEquals(0, CliRun.of(fast(dir.resolve("a.png"), "-s", "3")).status());
        CliRun r = CliRun.of(fast(dir.resolve("b_%02d.png"), "-s", "3", "--output-begin-idx", "4"));
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(pixels(read(dir.resolve("a.png"))), pixels(read(dir.resolve("b_04.png"))));
    }

    @Test
    void imageToImageRecordsItsStrength(@TempDir Path dir) throws IOException {
        BufferedImage init = new BufferedImage(128, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 128; x++) {
                init.setRGB(x, y, (2 * x << 16) | (4 * y << 8) | 128);
            }
        }
        Path initFile = dir.resolve("init.png");
        ImageIO.write(init, "png", initFile.toFile());
        Path out = dir.resolve("i2i.png");
        // no -W/-H: the init image's size is used, as in sd-cli
        CliRun r = CliRun.of("-m", model.toString(), "--tokenizer", CliRun.merges().toString(), "-p", "a lovely cat",
                "--steps", "4", "--strength", "0.5", "-i", initFile.toString(), "--backend", "cpu", "-t", "2",
                "-o", out.toString(), "--sampling-method", "euler");
        assertEquals(0, r.status(), r.err());
        BufferedImage img = read(out);
        assertEquals(128, img.getWidth());
        assertEquals(64, img.getHeight());
        String params = PngInfo.readParameters(out).orElseThrow();
        assertTrue(params.contains("\"strength\":0.5"), params);
        assertTrue(params.contains("Size: 128x64"), params);
        assertTrue(r.out().contains("image encoding "), r.out());
        // sd.cpp: t_enc = (int) (4 * 0.5) = 2, and the cut schedule runs t_enc + 1 steps
        assertTrue(r.err().contains("sampling: step 3/3"), r.err());
        assertFalse(r.err().contains("step 4"), r.err());
    }

    private static BufferedImage read(Path f) {
        try {
            BufferedImage img = ImageIO.read(f.toFile());
            assertNotNull(img, f.toString());
            return img;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
