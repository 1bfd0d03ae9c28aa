package io.sdj.cli;

import io.sdj.pipeline.FirstStageOptions;
import io.sdj.pipeline.FlashAttention;
import io.sdj.pipeline.VaeConvolution;
import io.sdj.pipeline.PreviewListener;
import io.sdj.pipeline.PreviewMode;
import io.sdj.runtime.BlasUse;
import io.sdj.vae.VaeTiling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sd-cli's TAESD, preview, VAE tiling and flash-attention flags as {@link CliOptions} parses them. */
class SpeedFlagsTest {

    @Test
    void defaultsAreSdClis() {
        SpeedFlags s = CliOptions.parse("-m", "m").speed();
        assertNull(s.taesd());
        assertFalse(s.taesdPreviewOnly());
        assertEquals(PreviewMode.NONE, s.preview());
        assertEquals("preview.png", s.previewPath());
        assertEquals(1, s.previewInterval());
        assertFalse(s.previewNoisy());
        assertEquals(VaeTiling.DEFAULT, s.tiling());
        assertFalse(s.tiling().enabled());
        assertEquals(32, s.tiling().tileSizeX());
        assertEquals(0.5f, s.tiling().overlap());
        assertFalse(s.diffusionFa());
        assertFalse(s.fa());
        assertFalse(s.flashAttentionInUnet());
        assertEquals(FlashAttention.AUTO, s.unetFlash());
        assertEquals(FlashAttention.AUTO, s.vaeFlash());
        assertEquals(VaeConvolution.AUTO, s.vaeConvolution());
    }

    @Test
    void taesdAndPreviewFlags() {
        SpeedFlags s = CliOptions.parse("-m", "m", "--taesd", "t.safetensors", "--taesd-preview-only", "--preview",
                "tae", "--preview-path", "p.png", "--preview-interval", "3", "--preview-noisy").speed();
        assertEquals(Path.of("t.safetensors"), s.taesd());
        assertTrue(s.taesdPreviewOnly());
        assertEquals(PreviewMode.TAE, s.preview());
        assertEquals("p.png", s.previewPath());
        assertEquals(3, s.previewInterval());
        assertTrue(s.previewNoisy());
        FirstStageOptions o = s.firstStage(PreviewListener.NONE);
        assertFalse(o.taesdReplacesVae(), "preview only");
        assertEquals(PreviewMode.VAE, CliOptions.parse("-m", "m", "--preview", "vae").speed().preview());
        assertTrue(CliOptions.parse("-m", "m", "--taesd", "t").speed().firstStage(PreviewListener.NONE)
                .taesdReplacesVae());
    }

    @Test
    void tilingFlags() {
        VaeTiling t = CliOptions.parse("-m", "m", "--vae-tiling", "--vae-tile-size", "48x24", "--vae-tile-overlap",
                "0.25").speed().tiling();
        assertTrue(t.enabled());
        assertEquals(48, t.tileSizeX());
        assertEquals(24, t.tileSizeY());
        assertEquals(0.25f, t.overlap());
        VaeTiling square = CliOptions.parse("-m", "m", "--vae-tile-size", "40").speed().tiling();
        assertEquals(40, square.tileSizeX());
        assertEquals(40, square.tileSizeY());
        assertFalse(square.enabled(), "tile options alone do not switch tiling on");
        VaeTiling rel = CliOptions.parse("-m", "m", "--vae-relative-tile-size", "0.5x2").speed().tiling();
        assertEquals(0.5f, rel.relativeX());
        assertEquals(2f, rel.relativeY());
    }

    @Test
    void flashAttentionFlags() {
        SpeedFlags d = CliOptions.parse("-m", "m", "--diffusion-fa").speed();
        assertTrue(d.diffusionFa() && d.flashAttentionInUnet() && !d.fa());
        SpeedFlags all = CliOptions.parse("-m", "m", "--fa").speed();
        assertTrue(all.fa() && all.flashAttentionInUnet());
        assertTrue(CliOptions.parse("-m", "m", "--vae-conv-direct").speed().vaeConvDirect());
        assertEquals(VaeConvolution.DIRECT, CliOptions.parse("-m", "m", "--vae-conv-direct").speed().vaeConvolution());
        assertFalse(CliOptions.parse("-m", "m").speed().vaeConvDirect());
        assertEquals(FlashAttention.ON, d.unetFlash());
        assertEquals(FlashAttention.AUTO, d.vaeFlash());
        assertEquals(FlashAttention.ON, all.vaeFlash());
        SpeedFlags off = CliOptions.parse("-m", "m", "--no-fa").speed();
        assertEquals(FlashAttention.OFF, off.unetFlash());
        assertEquals(FlashAttention.OFF, off.vaeFlash());
    }

    @Test
    void noFaContradictsTheFlashFlags() {
        UsageException e = assertThrows(UsageException.class,
                () -> CliOptions.parse("-m", "m", "--no-fa", "--diffusion-fa"));
        assertTrue(e.getMessage().contains("--no-fa contradicts --diffusion-fa"), e.getMessage());
    }

    @Test
    void blasFlags() {
        assertEquals(BlasUse.UNQUANTIZED, CliOptions.parse("-m", "m").speed().blasUse());
        assertEquals(BlasUse.OFF, CliOptions.parse("-m", "m", "--no-blas").speed().blasUse());
        assertEquals(BlasUse.ALL, CliOptions.parse("-m", "m", "--blas-quantized").speed().blasUse());
        UsageException e = assertThrows(UsageException.class,
                () -> CliOptions.parse("-m", "m", "--no-blas", "--blas-quantized"));
        assertTrue(e.getMessage().contains("--no-blas contradicts --blas-quantized"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--preview tae needs a TAESD file|--preview|tae",
            "--preview: unknown preview method 'fancy'|--preview|fancy",
            "--vae-tile-size: expected [X]x[Y]|--vae-tile-size|big",
            "--vae-tile-size: tiles must be at least 4|--vae-tile-size|2x2",
            "--vae-relative-tile-size: expected [X]x[Y]|--vae-relative-tile-size|-1",
            "--vae-tile-overlap: expected a number|--vae-tile-overlap|half",
            "--preview-interval: must be at least 1|--preview-interval|0",
            "--preview-path: must not be empty|--preview-path|''",
            "--taesd: missing value|--taesd|",
    })
    void badValuesNameTheFlag(String message, String flag, String value) {
        String[] args = value == null ? new String[]{"-m", "m", flag} : new String[]{"-m", "m", flag, value};
        UsageException e = assertThrows(UsageException.class, () -> CliOptions.parse(args));
        assertTrue(e.getMessage().contains(message), () -> "'" + e.getMessage() + "' lacks '" + message + "'");
    }

    @Test
    void helpListsTheFlags() {
        String help = CliOptions.helpText();
        for (String name : new String[]{"--taesd", "--taesd-preview-only", "--preview", "--preview-path",
                "--preview-interval", "--preview-noisy", "--vae-tiling", "--vae-tile-size", "--vae-relative-tile-size",
                "--vae-tile-overlap", "--diffusion-fa", "--fa", "--vae-conv-direct", "--no-blas", "--blas-quantized"}) {
            assertTrue(help.contains("  " + name + " ") || help.contains("  " + name + "\n"), name);
        }
    }
}
