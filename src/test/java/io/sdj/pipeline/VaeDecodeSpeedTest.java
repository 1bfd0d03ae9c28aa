package io.sdj.pipeline;

import io.sdj.model.GoldenModel;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.Component;
import io.sdj.model.ModelConfig;
import io.sdj.family.ModelFamilies;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.WeightStore;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.VaeTiling;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The untiled SD 1.5 VAE decode (golden checkpoint, CPU) with ggml_conv_2d (im2col + matrix product, sd.cpp's
 * default) against ggml_conv_2d_direct (sd-cli's --vae-conv-direct): time as a ratio measured in the same run,
 * alternating A B A B, compute memory, and the difference of the results.
 */
@Tag("extended") // a timing measurement: make test-extended, not CI
class VaeDecodeSpeedTest {
    static final int LATENT = Integer.getInteger("sdj.bench.latent", 16);
    static final int ROUNDS = Integer.getInteger("sdj.bench.rounds", 1);
    static final int THREADS = Integer.getInteger("sdj.bench.threads", 2);

    @Test
    void directConvolutionAgainstIm2col() {
        try (Backend cpu = Backend.cpu(); SafetensorsFile f = SafetensorsFile.open(GoldenModel.path())) {
            cpu.setThreads(THREADS);
            ModelConfig config = ModelFamilies.SD1.configure(f);
            try (WeightStore ws = TestWeights.load(f, config, cpu, Component.VAE)) {
                Scope s = Scope.of(ws, Component.VAE.prefix());
                AutoencoderKL im2col = new AutoencoderKL(config.vae(), s, Attention.REGULAR, false);
                AutoencoderKL direct = new AutoencoderKL(config.vae(), s, Attention.REGULAR, true);
                SplittableRandom r = new SplittableRandom(1);
                float[] z = new float[LATENT * LATENT * 4];
                for (int i = 0; i < z.length; i++) {
                    z[i] = (float) r.nextGaussian() / 0.18215f;
                }
                Planar in = new Planar(z, LATENT, LATENT, 4);
                FirstStageRunner runner = new FirstStageRunner(cpu, VaeTiling.DEFAULT, "vae");
                long memA = runner.measure(in, im2col::decode);
                long memB = runner.measure(in, direct::decode);
                double ta = 0;
                double tb = 0;
                float[] a = null;
                float[] b = null;
                for (int round = 0; round < ROUNDS; round++) {
                    long t0 = System.nanoTime();
                    a = runner.decode(in, 8, im2col::decode).data();
                    long t1 = System.nanoTime();
                    b = runner.decode(in, 8, direct::decode).data();
                    long t2 = System.nanoTime();
                    if (round > 0 || ROUNDS == 1) {
                        ta += (t1 - t0) / 1e9;
                        tb += (t2 - t1) / 1e9;
                    }
                }
                double maxDiff = 0;
                for (int i = 0; i < a.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                }
                System.out.printf("VAE decode %d², %d threads: im2col %.2f s, direct %.2f s (direct/im2col %.2f); "
                                + "compute %d MiB vs %d MiB; max |Δ| %.5f%n", LATENT * 8, THREADS, ta, tb, tb / ta,
                        memA >> 20, memB >> 20, maxDiff);
                assertTrue(memB < memA, "direct convolution needs no im2col buffer");
            }
        }
    }
}
