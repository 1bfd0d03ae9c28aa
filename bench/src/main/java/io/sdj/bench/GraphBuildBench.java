package io.sdj.bench;

import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.UnetConfig;
import io.sdj.nn.Scope;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import io.sdj.unet.UNet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Building the SD1 U-Net's ggml graph in Java (one {@link Graph} context, inputs, and {@link UNet#forward}) for a
 * {@code latent}×{@code latent} latent and a 77-token context, without computing or allocating it: the per-shape
 * cost {@code UNetRunner} pays before its first step. The weights are only declared (shapes and types, the way the
 * loader types them: 1-D F32, convolution kernels F16, linear weights {@code linearType}), never allocated.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GraphBuildBench {
    /** Side of the square latent (64: a 512×512 image). */
    @Param({"64"})
    public int latent;

    /** Type of the linear (attention, feed-forward, projection) weights. */
    @Param({"f16", "q4_0"})
    public String linearType;

    private WeightStore weights;
    private UNet unet;

    @Setup(Level.Trial)
    public void declareWeights() {
        weights = declareUnet(UnetConfig.SD1, GgmlType.fromName("linearType", linearType));
        unet = new UNet(UnetConfig.SD1, Scope.of(weights, Component.UNET.prefix()));
    }

    @TearDown(Level.Trial)
    public void close() {
        weights.close();
    }

    @Benchmark
    public long buildGraph() {
        UnetConfig c = unet.config();
        try (Graph g = new Graph("unet")) {
            Tensor x = g.input("x", GgmlType.F32, latent, latent, c.inChannels(), 1);
            Tensor t = g.input("timesteps", GgmlType.F32, 1);
            Tensor context = g.input("context", GgmlType.F32, c.contextDim(), 77, 1);
            Tensor out = unet.forward(g, x, t, context, null);
            return out.elementCount();
        }
    }

    /**
     * A store declaring every U-Net weight of {@code config} (names and shapes from {@link LdmLayout}, reversed to
     * ggml order) without allocating it.
     */
    static WeightStore declareUnet(UnetConfig config, GgmlType linear) {
        Map<String, long[]> shapes = LdmLayout.unetTensors(Component.UNET.prefix(), config);
        WeightStore store = new WeightStore("unet (declared only)", shapes.size());
        try {
            shapes.forEach((name, shape) -> store.create(name, typeOf(name, shape, linear), ggmlOrder(shape)));
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** 1-D: F32; 4-D kernels: F16; 2-D: the linear type (time embedding: F16, as the loader keeps the file's). */
    private static GgmlType typeOf(String name, long[] shape, GgmlType linear) {
        return switch (shape.length) {
            case 1 -> GgmlType.F32;
            case 2 -> name.startsWith(Component.UNET.name("time_embed")) || shape[1] % linear.blockSize() != 0
                    ? GgmlType.F16 : linear;
            default -> GgmlType.F16;
        };
    }

    private static long[] ggmlOrder(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }
}
