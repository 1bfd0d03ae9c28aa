package io.sdj.pipeline;

import io.sdj.model.GoldenCheckpoint;
import io.sdj.model.GoldenModel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Changing LoRAs on the full-size SD 1.5 stand-in, weights resident: no weight is read from the model file again,
 * removing the LoRAs gives back the exact no-LoRA image, and the time a change costs is printed.
 */
@Tag("slow")
class LoraSwitchTest {
    static int[] pixels(GenerationResult r) {
        BufferedImage img = r.images().getFirst().image();
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void switchingOnTheFullSizeModel() {
        Path loras = GoldenModel.sharedDir().resolve("golden-lora/loras");
        int[] loads = new int[1];
        long t0 = System.nanoTime();
        try (StableDiffusion sd = StableDiffusion.builder().model(GoldenModel.path(GoldenCheckpoint.SD15))
                .tokenizer(GoldenModel.merges()).backend("cpu").listener(p -> {
                    if (p.phase() == Phase.LOADING_WEIGHTS && p.step() == p.total()) {
                        loads[0]++;
                    }
                }).build()) {
            double load = (System.nanoTime() - t0) / 1e9;
            int loadsAtBuild = loads[0];
            GenerationRequest r = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(42).build();
            double[] s = new double[5];
            int[][] img = new int[5][];
            String[] what = {"none", "a:1", "a:1 + b:0.5", "c_locon:1", "none"};
            for (int i = 0; i < 5; i++) {
                GenerationRequest.Builder b = r.toBuilder().loras(java.util.List.of());
                switch (i) {
                    case 1 -> b.lora(loras.resolve("a.safetensors"), 1);
                    case 2 -> b.lora(loras.resolve("a.safetensors"), 1).lora(loras.resolve("b.safetensors"), 0.5f);
                    case 3 -> b.lora(loras.resolve("c_locon.safetensors"), 1);
                    default -> { }
                }
                long g0 = System.nanoTime();
                img[i] = pixels(sd.generate(b.build()));
                s[i] = (System.nanoTime() - g0) / 1e9;
            }
            System.out.printf("SD 1.5 stand-in resident: load %.1f s; generate (64×64, 1 step) with", load);
            for (int i = 0; i < 5; i++) {
                System.out.printf(" [%s] %.2f s", what[i], s[i]);
            }
            System.out.printf("; weight loads after build: %d%n", loads[0] - loadsAtBuild);
            assertEquals(loadsAtBuild, loads[0], "no weights read again");
            assertArrayEquals(img[0], img[4], "the undo is exact");
            assertTrue(!java.util.Arrays.equals(img[0], img[1]));
        }
    }
}
