package io.sdj.pipeline;

import io.sdj.model.GoldenModel;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.Component;
import io.sdj.model.ModelConfig;
import io.sdj.family.ModelFamilies;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import io.sdj.unet.UNet;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.VaeTiling;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compute-memory figures of the full-size SD 1.5 graphs (golden checkpoint) on the CPU backend, measured with ggml's
 * allocator without computing: the U-Net with regular and flash attention at 512² and 1024², and the VAE decoder
 * untiled (regular and flash mid-block attention) and tiled at 512², 1024² and 2048².
 */
@Tag("slow")
class MemoryFiguresTest {

    static long mib(long b) {
        return b >> 20;
    }

    @Test
    void flashAttentionAndTilingBoundTheComputeMemory() {
        Backend cpu = Backends.get("cpu");
        try (SafetensorsFile f = SafetensorsFile.open(GoldenModel.path())) {
            ModelConfig config = ModelFamilies.SD1.configure(f);
            try (WeightStore ws = TestWeights.load(f, config, cpu, Component.UNET, Component.VAE)) {
                for (int size : new int[]{512, 1024}) {
                    long[] bytes = new long[2];
                    for (int flash = 0; flash < 2; flash++) {
                        UNet unet = new UNet(config.unet(), Scope.of(ws, Component.UNET.prefix()),
                                Attention.of(flash == 1));
                        try (Graph g = new Graph("unet")) {
                            Tensor x = g.input("x", GgmlType.F32, size / 8, size / 8, 4, 1);
                            Tensor t = g.input("t", GgmlType.F32, 1);
                            Tensor c = g.input("c", GgmlType.F32, 768, 77, 1);
                            bytes[flash] = g.measureComputeBytes(cpu, unet.forward(g, x, t, c, null));
                        }
                    }
                    System.out.printf("U-Net %d²: compute %d MiB regular, %d MiB flash attention (%.2fx)%n", size,
                            mib(bytes[0]), mib(bytes[1]), bytes[1] / (double) bytes[0]);
                    assertTrue(bytes[1] < bytes[0], "flash attention must cut the U-Net's compute memory at " + size);
                }
                for (int size : new int[]{512, 1024, 2048}) {
                    int l = size / 8;
                    Planar z = new Planar(new float[l * l * 4], l, l, 4);
                    long[] bytes = new long[2];
                    for (int flash = 0; flash < 2; flash++) {
                        AutoencoderKL vae = new AutoencoderKL(config.vae(), Scope.of(ws, Component.VAE.prefix()),
                                Attention.of(flash == 1));
                        bytes[flash] = new FirstStageRunner(cpu, VaeTiling.DEFAULT, "vae").measure(z, vae::decode);
                    }
                    AutoencoderKL vae = new AutoencoderKL(config.vae(), Scope.of(ws, Component.VAE.prefix()));
                    int tile = VaeTiling.DEFAULT.tileWidth(l, 1);
                    long tiled = new FirstStageRunner(cpu, VaeTiling.DEFAULT, "vae")
                            .measure(new Planar(new float[tile * tile * 4], tile, tile, 4), vae::decode);
                    AutoencoderKL directVae = new AutoencoderKL(config.vae(), Scope.of(ws, Component.VAE.prefix()),
                            Attention.REGULAR, true);
                    long direct = new FirstStageRunner(cpu, VaeTiling.DEFAULT, "vae").measure(z, directVae::decode);
                    System.out.printf("VAE decode %d²: untiled %d MiB regular, %d MiB flash attention, %d MiB direct "
                                    + "conv; tiled (%dx%d latent tiles) %d MiB per tile%n", size, mib(bytes[0]),
                            mib(bytes[1]), mib(direct), tile, tile, mib(tiled));
                    assertTrue(direct < bytes[0], "direct convolution needs no im2col buffer");
                    if (cpu.hasBlas() && size == 1024) {
                        // the BLAS graph's convolutions run in bands written into one output, so its decode needs
                        // little more than direct convolution's and the VAE's AUTO choice keeps the faster im2col
                        assertTrue(bytes[0] - bytes[0] / 4 < direct, "BLAS im2col in bands " + mib(bytes[0])
                                + " MiB against direct convolution's " + mib(direct) + " MiB");
                    }
                    assertTrue(tiled <= bytes[0]);
                }
            }
        }
    }
}
