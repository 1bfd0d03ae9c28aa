package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.model.GoldenModel;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.SamplerKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public API end to end on a tiny SD1-shaped model (small channel counts, same layout and code paths). */
class PipelineTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path merges;
    static StableDiffusion sd;

    @BeforeAll
    static void load() throws IOException {
        model = dir.resolve("tiny.safetensors");
        TinySd15Writer.writeDefault(model);
        merges = GoldenModel.merges();
        sd = StableDiffusion.builder().model(model).tokenizer(merges).backend("cpu").threads(2).build();
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    static GenerationRequest.Builder small(String prompt) {
        return GenerationRequest.builder(prompt).size(64, 64).steps(3).seed(42);
    }

    static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void txt2imgIsDeterministicAndSeedDependent() {
        List<Phase> phases = new ArrayList<>();
        GenerationResult a = sd.generate(small("a lovely cat").build(), p -> phases.add(p.phase()), new CancellationToken());
        GenerationResult b = sd.generate(small("a lovely cat").build());
        GenerationResult c = sd.generate(small("a lovely cat").seed(43).build());
        BufferedImage img = a.images().getFirst().image();
        assertEquals(64, img.getWidth());
        assertEquals(64, img.getHeight());
        assertTrue(java.util.Arrays.equals(pixels(img), pixels(b.images().getFirst().image())), "same seed, same image");
        assertTrue(!java.util.Arrays.equals(pixels(img), pixels(c.images().getFirst().image())), "other seed, other image");
        assertTrue(phases.contains(Phase.TEXT_ENCODING) && phases.contains(Phase.SAMPLING) && phases.contains(Phase.DECODING), phases.toString());
        assertEquals(3, a.timings().steps());
        long distinct = java.util.Arrays.stream(pixels(img)).distinct().count();
        assertTrue(distinct > 50, "the image should not be flat: " + distinct + " colours");
    }

    @Test
    void batchUsesConsecutiveSeeds() {
        GenerationResult r = sd.generate(small("cat").batchCount(2).sampler(SamplerKind.EULER).build());
        assertEquals(2, r.images().size());
        assertEquals(42, r.images().get(0).seed());
        assertEquals(43, r.images().get(1).seed());
        GenerationResult single = sd.generate(small("cat").seed(43).sampler(SamplerKind.EULER).build());
        assertTrue(java.util.Arrays.equals(pixels(r.images().get(1).image()), pixels(single.images().getFirst().image())));
    }

    @Test
    void img2imgDependsOnTheInitImage() {
        BufferedImage init = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                init.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
            }
        }
        List<Phase> phases = new ArrayList<>();
        GenerationResult r = sd.generate(small("cat").initImage(init).strength(0.5f).steps(4).build(),
                p -> phases.add(p.phase()), null);
        assertTrue(phases.contains(Phase.IMAGE_ENCODING));
        assertEquals(3, r.timings().steps(), "sd.cpp: t_enc = (int)(4 × 0.5) = 2, sampling from sigma[4 - 2 - 1]: 3 steps");
        BufferedImage dark = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        GenerationResult r2 = sd.generate(small("cat").initImage(dark).strength(0.5f).steps(4).build());
        assertTrue(!java.util.Arrays.equals(pixels(r.images().getFirst().image()), pixels(r2.images().getFirst().image())));
    }

    @Test
    void cancellationStopsAGeneration() {
        CancellationToken token = new CancellationToken();
        assertThrows(GenerationCancelledException.class, () -> sd.generate(small("cat").steps(10).build(), p -> {
            if (p.phase() == Phase.SAMPLING && p.step() == 2) {
                token.cancel();
            }
        }, token));
        // the model is still usable afterwards
        assertEquals(1, sd.generate(small("cat").steps(1).build()).images().size());
    }

    @Test
    void concurrentCallsQueueAndGiveTheSameImages() throws Exception {
        int[] expected = pixels(sd.generate(small("a dog").build()).images().getFirst().image());
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                futures.add(pool.submit(() -> sd.generate(small("a dog").build())));
            }
            for (Future<GenerationResult> f : futures) {
                assertTrue(java.util.Arrays.equals(expected, pixels(f.get().images().getFirst().image())));
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badParametersAreTypedErrors() {
        assertThrows(InvalidParameterException.class, () -> small("x").width(-60).build());
        assertThrows(InvalidParameterException.class, () -> small("x").width(20000).build());
        assertThrows(InvalidParameterException.class, () -> small("x").steps(5000).build());
        assertThrows(InvalidParameterException.class, () -> small("x").batchCount(1000).build());
        assertThrows(InvalidParameterException.class, () -> small("x").steps(0).build());
        assertThrows(InvalidParameterException.class, () -> small("x").strength(1.5f).build());
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> small("x").height(0).build());
        assertEquals("height", e.parameter());
    }

    @Test
    void wrongFilesAreTypedErrors() throws IOException {
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[]{1, 2, 3});
        assertThrows(ModelFormatException.class,
                () -> StableDiffusion.builder().model(junk).tokenizer(merges).backend("cpu").build());
        assertThrows(InvalidParameterException.class,
                () -> StableDiffusion.builder().model(dir.resolve("missing.safetensors")).tokenizer(merges).build());
    }

    @Test
    void quantizedWeightsLoadAndDiffer() {
        try (StableDiffusion q = StableDiffusion.builder().model(model).tokenizer(merges).backend("cpu")
                .weightType(GgmlType.Q8_0).build()) {
            assertTrue(q.weightBytes() < sd.weightBytes(),
                    q.weightBytes() + " vs " + sd.weightBytes());
            GenerationResult r = q.generate(small("cat").build());
            assertEquals(64, r.images().getFirst().image().getWidth());
        }
    }

    /** Many generations from one loaded model leave native memory flat (resident set size checked). */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void hundredImagesLeaveNativeMemoryFlat() throws IOException {
        GenerationRequest req = small("cat").steps(1).build();
        for (int i = 0; i < 10; i++) {
            sd.generate(req);
        }
        System.gc();
        long before = rssKiB();
        for (int i = 0; i < 100; i++) {
            sd.generate(req);
        }
        System.gc();
        long after = rssKiB();
        assertTrue(after - before < 40 * 1024, "RSS grew by " + (after - before) + " KiB over 100 images");
    }

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }
}
