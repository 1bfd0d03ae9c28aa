package io.sdj.pipeline;

import io.sdj.model.GoldenModel;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.Component;
import io.sdj.model.ModelConfig;
import io.sdj.family.ModelFamilies;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import io.sdj.unet.UNet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One SD 1.5 U-Net evaluation (golden checkpoint, CPU) with regular and with flash attention, compiled once each and
 * run alternately A B A B in the same process: the time ratio, and the largest difference of the outputs.
 */
@Tag("extended") // a timing measurement: make test-extended, not CI
class FlashAttentionSpeedTest {
    static final int LATENT = Integer.getInteger("sdj.bench.latent", 32);
    static final int ROUNDS = Integer.getInteger("sdj.bench.rounds", 2);
    static final int THREADS = Integer.getInteger("sdj.bench.threads", 2);

    @Test
    void flashAgainstRegularAttention() {
        try (Backend cpu = Backend.cpu(); SafetensorsFile f = SafetensorsFile.open(GoldenModel.path())) {
            cpu.setThreads(THREADS);
            ModelConfig config = ModelFamilies.SD1.configure(f);
            try (WeightStore ws = TestWeights.load(f, config, cpu, Component.UNET)) {
                SplittableRandom r = new SplittableRandom(1);
                float[] x = new float[LATENT * LATENT * 4];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                float[] ctx = new float[768 * 77];
                for (int i = 0; i < ctx.length; i++) {
                    ctx[i] = (float) r.nextGaussian();
                }
                Graph[] graphs = new Graph[2];
                CompiledGraph[] compiled = new CompiledGraph[2];
                Tensor[][] io = new Tensor[2][];
                double[] seconds = new double[2];
                float[][] out = new float[2][];
                try {
                    for (int v = 0; v < 2; v++) {
                        UNet unet = new UNet(config.unet(), Scope.of(ws, Component.UNET.prefix()), Attention.of(v == 1));
                        graphs[v] = new Graph("unet");
                        Tensor tx = graphs[v].input("x", GgmlType.F32, LATENT, LATENT, 4, 1);
                        Tensor tt = graphs[v].input("t", GgmlType.F32, 1);
                        Tensor tc = graphs[v].input("c", GgmlType.F32, 768, 77, 1);
                        Tensor o = unet.forward(graphs[v], tx, tt, tc, null);
                        compiled[v] = graphs[v].compile(cpu, o);
                        io[v] = new Tensor[]{tx, tt, tc, o};
                    }
                    for (int round = 0; round <= ROUNDS; round++) {
                        for (int v = 0; v < 2; v++) {
                            io[v][0].setFloats(x);
                            io[v][1].setFloats(new float[]{500f});
                            io[v][2].setFloats(ctx);
                            long t0 = System.nanoTime();
                            compiled[v].compute();
                            if (round > 0) { // round 0 warms up
                                seconds[v] += (System.nanoTime() - t0) / 1e9;
                            }
                            out[v] = io[v][3].getFloats();
                        }
                    }
                } finally {
                    for (int v = 0; v < 2; v++) {
                        if (compiled[v] != null) {
                            compiled[v].close();
                        }
                        if (graphs[v] != null) {
                            graphs[v].close();
                        }
                    }
                }
                double maxDiff = 0;
                double maxAbs = 0;
                for (int i = 0; i < out[0].length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(out[0][i] - out[1][i]));
                    maxAbs = Math.max(maxAbs, Math.abs(out[0][i]));
                }
                System.out.printf("U-Net %d², %d threads, %d rounds: regular %.2f s, flash %.2f s (flash/regular %.2f); "
                                + "max |Δ| %.5f of max |eps| %.3f%n", LATENT * 8, THREADS, ROUNDS, seconds[0], seconds[1],
                        seconds[1] / seconds[0], maxDiff, maxAbs);
                assertTrue(maxDiff < 0.05 * maxAbs, "outputs agree within f16 error: " + maxDiff);
            }
        }
    }
}
