package io.sdj.cli;

import io.sdj.model.DiffusersFixture;
import io.sdj.model.TinySd15Writer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sd-cli's component flags and a diffusers folder as -m, end to end through the CLI. */
class ComponentFilesCliTest {
    @TempDir
    Path dir;

    private int[] run(Path out, String... model) throws IOException {
        String[] base = {"-p", "a lovely cat", "-W", "64", "-H", "64", "--steps", "2", "--backend", "cpu", "-t", "2",
                "-o", out.toString()};
        String[] all = new String[model.length + base.length];
        System.arraycopy(model, 0, all, 0, model.length);
        System.arraycopy(base, 0, all, model.length, base.length);
        CliRun r = CliRun.of(all);
        assertEquals(0, r.status(), r.err());
        BufferedImage img = ImageIO.read(out.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void componentsAndFolderGiveTheCheckpointsImage() throws IOException {
        TinySd15Writer.Builder b = TinySd15Writer.builder().vaeChMult(1, 1, 1, 1).alphasCumprod(false);
        Path whole = b.write(dir.resolve("whole.safetensors"));
        Map<String, DiffusersFixture.Blob> all = DiffusersFixture.readAll(whole);
        Path unet = DiffusersFixture.write(dir.resolve("unet.safetensors"),
                DiffusersFixture.reprefixed(all, "model.diffusion_model.", ""), DiffusersFixture.metadata(whole));
        Path vae = DiffusersFixture.write(dir.resolve("vae.safetensors"),
                DiffusersFixture.reprefixed(all, "first_stage_model.", ""), Map.of());
        Path clipL = DiffusersFixture.write(dir.resolve("clip_l.safetensors"),
                DiffusersFixture.reprefixed(all, "cond_stage_model.transformer.", ""), Map.of());
        Path folder = DiffusersFixture.writeFolder(whole, b.config(), TinySd15Writer.Family.SD1, dir.resolve("folder"),
                DiffusersFixture.VaeAttention.CURRENT, CliRun.merges());
        String merges = CliRun.merges().toString();

        int[] expected = run(dir.resolve("a.png"), "-m", whole.toString(), "--tokenizer", merges);
        assertArrayEquals(expected, run(dir.resolve("b.png"), "--diffusion-model", unet.toString(), "--vae",
                vae.toString(), "--clip_l", clipL.toString(), "--tokenizer", merges), "component files");
        assertArrayEquals(expected, run(dir.resolve("c.png"), "-m", folder.toString()), "diffusers folder");

        // sdj convert reads the folder too; its GGUF gives the same image
        Path gguf = dir.resolve("folder.gguf");
        CliRun convert = CliRun.of("-M", "convert", "-m", folder.toString(), "-o", gguf.toString());
        assertEquals(0, convert.status(), convert.err());
        Path wholeGguf = dir.resolve("whole.gguf");
        assertEquals(0, CliRun.of("-M", "convert", "-m", whole.toString(), "-o", wholeGguf.toString()).status());
        assertArrayEquals(run(dir.resolve("f.png"), "-m", wholeGguf.toString(), "--tokenizer", merges),
                run(dir.resolve("e.png"), "-m", gguf.toString(), "--tokenizer", merges), "GGUF of the folder");

        CliRun missing = CliRun.of("-m", whole.toString(), "--tokenizer", merges, "--vae",
                dir.resolve("none.safetensors").toString(), "-o", dir.resolve("d.png").toString());
        assertEquals(1, missing.status(), missing.err());
        assertTrue(missing.err().contains("--vae file not found: " + dir.resolve("none.safetensors")), missing.err());
    }
}
