package io.sdj.pipeline;

import io.sdj.family.ModelFamilies;
import io.sdj.family.ModelFamily;
import io.sdj.model.Component;
import io.sdj.model.ModelConfig;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.TinySd15Writer;
import io.sdj.nn.Attention;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import io.sdj.runtime.WeightStore;
import io.sdj.vae.AutoencoderKL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link VaeConvolution#AUTO}: the VAE switches to direct convolution only when im2col's compute memory would exceed
 * the budget, and the pixels do not change (SD 1.x scale, and SDXL's 1/32 convolution input scale).
 */
class VaeConvolutionTest {
    @TempDir
    Path dir;

    @Test
    void sd1VaeSwitchesToDirectConvolutionOnlyOverBudgetWithTheSamePixels() throws IOException {
        check(TinySd15Writer.builder().write(dir.resolve("sd1.safetensors")));
    }

    @Test
    void sdxlVaeWithItsConvScaleGivesTheSamePixelsEitherWay() throws IOException {
        check(TinySd15Writer.sdxl().write(dir.resolve("sdxl.safetensors")));
    }

    private static void check(Path model) throws IOException {
        // the same pixels is a property of ggml's own kernels: with a BLAS partner im2col's products are BLAS's
        Backend cpu = Backends.cpuWithoutBlas();
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            ModelFamily family = ModelFamilies.detect(f);
            ModelConfig config = family.configure(f);
            try (WeightStore ws = TestWeights.load(f, config, cpu, Component.VAE)) {
                AutoencoderKL im2col = family.autoencoder(config, ws, Attention.REGULAR, false);
                AutoencoderKL direct = family.autoencoder(config, ws, Attention.REGULAR, true);
                int w = 12;
                int h = 8;
                int z = config.vae().embedDim();
                float[] latent = new float[w * h * z];
                SplittableRandom r = new SplittableRandom(3);
                for (int i = 0; i < latent.length; i++) {
                    latent[i] = (float) r.nextGaussian();
                }
                float[] reference = new VaeRunner(im2col, cpu).decode(latent, w, h, z);
                Backend blas = Backends.get("cpu");
                if (blas.hasBlas()) {
                    float[] viaBlas = new VaeRunner(im2col, blas).decode(latent, w, h, z);
                    double max = 0;
                    for (int i = 0; i < reference.length; i++) {
                        max = Math.max(max, Math.abs(reference[i] - viaBlas[i]));
                    }
                    assertTrue(max > 0 && max < 2e-3, "im2col with BLAS products: max |diff| " + max);
                }

                VaeRunner roomy = new VaeRunner(im2col, direct, () -> Long.MAX_VALUE / 2, cpu, null);
                assertArrayEquals(reference, roomy.decode(latent, w, h, z));
                assertFalse(roomy.lastDirect(), "im2col fits the budget");

                VaeRunner tight = new VaeRunner(im2col, direct, () -> 1L, cpu, null);
                assertArrayEquals(reference, tight.decode(latent, w, h, z), "direct convolution, same pixels");
                assertTrue(tight.lastDirect(), "im2col over the budget switches to direct convolution");

                // a lean graph that saves less than a quarter of the memory (here: the same graph) is not worth its
                // time: over the budget, the regular graph stays
                VaeRunner noSaving = new VaeRunner(im2col, im2col, () -> 1L, cpu, null);
                assertArrayEquals(reference, noSaving.decode(latent, w, h, z));
                assertFalse(noSaving.lastDirect(), "no switch to a graph that is not smaller");

                int iw = w * config.vae().downscale();
                int ih = h * config.vae().downscale();
                float[] image = new float[iw * ih * 3];
                for (int i = 0; i < image.length; i++) {
                    image[i] = (float) r.nextDouble(-1, 1);
                }
                assertArrayEquals(new VaeRunner(im2col, cpu).encode(image, iw, ih), tight.encode(image, iw, ih),
                        "the encoder too");
                assertTrue(tight.lastDirect());
            }
        }
    }
}
