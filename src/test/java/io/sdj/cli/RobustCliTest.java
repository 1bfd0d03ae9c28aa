package io.sdj.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI's previews and its refusals of inputs that could exhaust memory. */
class RobustCliTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void setUp() throws IOException {
        model = CliRun.tinyModel(dir);
    }

    static String[] args(String... extra) {
        String[] base = {"-m", model.toString(), "-p", "a cat", "--tokenizer", CliRun.merges().toString(),
                "--steps", "2", "-W", "32", "-H", "32", "--backend", "cpu", "-t", "2",
                "-o", dir.resolve("out.png").toString()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void previewProjWritesTheLatentPreview() throws IOException {
        Path preview = dir.resolve("previews/p.png");
        CliRun r = CliRun.of(args("--preview", "proj", "--preview-path", preview.toString(), "--preview-interval", "1"));
        assertEquals(0, r.status(), r.err());
        BufferedImage img = ImageIO.read(preview.toFile());
        assertEquals(8, img.getWidth(), "32 px, aligned up to 64, / 8");
        assertEquals(8, img.getHeight());
    }

    @Test
    void previewMethodsSdjDoesNotImplementAreUsageErrors() {
        CliRun tae = CliRun.of(args("--preview", "tae"));
        assertEquals(Main.EXIT_USAGE, tae.status());
        assertTrue(tae.err().contains("--preview tae needs a TAESD file"), tae.err());
        CliRun zero = CliRun.of(args("--preview", "proj", "--preview-interval", "0"));
        assertEquals(Main.EXIT_USAGE, zero.status());
        assertTrue(zero.err().contains("--preview-interval"), zero.err());
    }

    @Test
    void aTokenizerThatIsNotAFileIsRefusedWithoutReadingIt() {
        CliRun r = CliRun.of(args("--tokenizer", "/dev/zero"));
        assertEquals(Main.EXIT_USAGE, r.status(), r.err());
        assertTrue(r.err().contains("tokenizer: not a file or folder: /dev/zero"), r.err());
    }

    @Test
    void anInitImageClaimingAHugeSizeIsRefusedBeforeDecoding() throws IOException {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        byte[] png = out.toByteArray();
        ByteBuffer.wrap(png, 16, 8).putInt(100_000).putInt(100_000); // IHDR width, height
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
        Path file = dir.resolve("huge.png");
        Files.write(file, png);
        long t0 = System.nanoTime();
        CliRun r = CliRun.of(args("-i", file.toString()));
        assertEquals(Main.EXIT_FAILURE, r.status(), r.err());
        assertTrue(r.err().contains("100000x100000 is too large"), r.err());
        assertTrue((System.nanoTime() - t0) < 10_000_000_000L, "refused from the header, not after decoding");
    }

    /**
     * The deepest U-Net the configuration accepts (64 transformer blocks per site): its graph is deeper than an
     * ordinary thread's native stack allows for ggml's recursive graph expansion (that was a SIGSEGV), and has more
     * nodes than the default graph size (that was a ggml assertion).
     */
    @Test
    void theDeepestAcceptedModelGenerates() {
        Path deep = io.sdj.model.TinySd15Writer.builder().vaeChMult(1, 1, 1, 1)
                .transformerDepth(io.sdj.model.UnetConfig.MAX_DEPTH).write(dir.resolve("deep.safetensors"));
        String[] a = args();
        a[1] = deep.toString();
        a[7] = "1";
        a[9] = "16";
        a[11] = "16";
        CliRun r = CliRun.of(a);
        assertEquals(0, r.status(), r.err());
    }

    /** Found by the fuzz test: SD 2.x's prediction probe indexed past the U-Net output of a 3-channel model. */
    @Test
    void latentChannelCountsThatDisagreeAreAFileError() {
        Path odd = io.sdj.model.TinySd15Writer.sd2().vaeChMult(1, 1, 1, 1).outChannels(3)
                .write(dir.resolve("sd2-out3.safetensors"));
        String[] a = args();
        a[1] = odd.toString();
        CliRun r = CliRun.of(a);
        assertEquals(Main.EXIT_FAILURE, r.status(), r.err());
        assertTrue(r.err().contains("latent channel counts disagree: the U-Net takes 4") && r.err().contains("predicts 3"),
                r.err());
    }

    @Test
    void theLargestSizeIsRefusedForMemoryNotAttempted() {
        CliRun r = CliRun.of(args("-W", "16384", "-H", "16384"));
        assertEquals(Main.EXIT_USAGE, r.status(), r.err());
        assertTrue(r.err().contains("16384x16384") && (r.err().contains("Java heap")
                || r.err().contains("compute memory")), r.err());
    }
}
