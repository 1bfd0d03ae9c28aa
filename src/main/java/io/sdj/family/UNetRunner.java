package io.sdj.family;

import io.sdj.InvalidParameterException;
import io.sdj.nn.Attention;
import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlException;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.unet.UNet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Runs the U-Net: one compiled graph per latent size, context length and batch size, built and allocated once and
 * reused across steps and images. Classifier-free guidance runs as one batch of two when {@link GuidanceBatching}
 * allows it (see {@link #predictGuided}).
 */
public final class UNetRunner implements DiffusionModel {
    private static final Logger LOG = LoggerFactory.getLogger(UNetRunner.class);

    private final UNet unet;
    private final Backend backend;
    private final UNet flash;
    private final AttentionChoice choice;
    private volatile UNet current;
    private volatile GuidanceBatching batching = GuidanceBatching.AUTO;
    private Graph graph;
    private CompiledGraph compiled;
    private volatile long maxComputeBytes;
    private GraphIo io;
    private long[] key = new long[0];
    /** The (w, h, tokens) whose batch-of-two graph did not fit in AUTO mode; those run as two passes. */
    private long[] batchedUnfit = new long[0];
    private int graphBuilds;

    /** Chooses flash attention for one latent shape. */
    @FunctionalInterface
    public interface AttentionChoice {
        /**
         * @param w                   the latent width
         * @param h                   the latent height
         * @param regularComputeBytes measures the compute memory of the regular-attention graph (only when asked)
         */
        boolean flash(int w, int h, LongSupplier regularComputeBytes);
    }

    public UNetRunner(UNet unet, Backend backend) {
        this(unet, backend, null, (w, h, bytes) -> false);
    }

    /**
     * @param unet   the U-Net used by default
     * @param flash  the same U-Net with flash attention, used for the shapes {@code choice} picks; null to always
     *               use {@code unet}
     */
    public UNetRunner(UNet unet, Backend backend, UNet flash, AttentionChoice choice) {
        this.unet = unet;
        this.backend = backend;
        this.flash = flash;
        this.choice = choice;
    }

    /** True when the graph built last uses flash attention (the U-Net's own, or the large-graph switch). */
    public boolean usesFlashAttention() {
        return (current == null ? unet : current).attention() == Attention.FLASH;
    }

    /** Width of the cross-attention context the U-Net takes. */
    public int contextDim() {
        return unet.config().contextDim();
    }

    @Override
    public long computeBytes() {
        return maxComputeBytes;
    }

    @Override
    public int inChannels() {
        return unet.config().inChannels();
    }

    /** How {@link #predictGuided} runs its two passes (default {@link GuidanceBatching#AUTO}). */
    public void guidanceBatching(GuidanceBatching mode) {
        this.batching = mode == null ? GuidanceBatching.AUTO : mode;
    }

    public GuidanceBatching guidanceBatching() {
        return batching;
    }

    /** How many graphs this runner has built and allocated (one per shape change, not per step). */
    public int graphBuilds() {
        return graphBuilds;
    }

    @Override
    public float[] predict(float[] latent, int w, int h, float timestep, Conditioning c) {
        check(latent, w, h, c);
        prepare(w, h, c.tokens(), 1);
        io.feed(latent, new float[]{timestep}, c.context(), c.vector());
        compiled.compute();
        return io.out().getFloats();
    }

    /**
     * Both guidance predictions. When the mode allows it and both conditionings have the same token count, one graph
     * runs x [w, h, c, 2], timesteps [2], context [dim, tokens, 2] (and y [adm, 2]) with cond as item 0 and uncond
     * as item 1, so the weights are read once. Otherwise, two passes.
     */
    @Override
    public float[][] predictGuided(float[] latent, int w, int h, float timestep, Conditioning cond,
                                   Conditioning uncond) {
        check(latent, w, h, cond);
        check(latent, w, h, uncond);
        if (!batchable(w, h, cond, uncond)) {
            return DiffusionModel.super.predictGuided(latent, w, h, timestep, cond, uncond);
        }
        if (batching == GuidanceBatching.AUTO) {
            try {
                prepare(w, h, cond.tokens(), 2);
            } catch (GgmlException e) {
                batchedUnfit = new long[]{w, h, cond.tokens()};
                LOG.info("the batched guidance graph for {}x{} does not fit ({}); running two passes per step", w, h,
                        e.getMessage());
                return DiffusionModel.super.predictGuided(latent, w, h, timestep, cond, uncond);
            }
        } else {
            prepare(w, h, cond.tokens(), 2);
        }
        io.feed(concat(latent, latent), new float[]{timestep, timestep}, concat(cond.context(), uncond.context()),
                io.y() != null ? concat(cond.vector(), uncond.vector()) : null);
        compiled.compute();
        float[] both = io.out().getFloats();
        int n = latent.length;
        return new float[][]{Arrays.copyOfRange(both, 0, n), Arrays.copyOfRange(both, n, 2 * n)};
    }

    private boolean batchable(int w, int h, Conditioning cond, Conditioning uncond) {
        if (batching == GuidanceBatching.TWO_PASS || cond.tokens() != uncond.tokens()) {
            return false;
        }
        if (batching == GuidanceBatching.BATCHED) {
            return true;
        }
        // AUTO: on the CPU with ggml's own kernels two passes measured as fast; with a BLAS partner, and on GPUs, one
        // batch of two is faster (README, "Batched guidance and loading")
        return (!backend.isCpu() || backend.hasBlas()) && !Arrays.equals(batchedUnfit, new long[]{w, h, cond.tokens()});
    }

    private void check(float[] latent, int w, int h, Conditioning c) {
        int adm = unet.config().admInChannels();
        if (w <= 0 || h <= 0 || (long) w * h * unet.config().inChannels() != latent.length) {
            throw new InvalidParameterException("latent", latent.length + " values are not a " + w + "x" + h + "x"
                    + unet.config().inChannels() + " latent");
        }
        if (c.contextDim() != unet.config().contextDim()) {
            throw new InvalidParameterException("context", "is " + c.contextDim() + " wide; the U-Net takes "
                    + unet.config().contextDim());
        }
        if (adm > 0 && (c.vector() == null || c.vector().length != adm)) {
            throw new InvalidParameterException("y", "the U-Net needs a " + adm + "-wide conditioning vector");
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private void prepare(int w, int h, int tokens, int batch) {
        long[] k = {w, h, tokens, batch};
        if (Arrays.equals(k, key)) {
            return;
        }
        release();
        int c = unet.config().inChannels();
        int adm = unet.config().admInChannels();
        UNet use = unet;
        if (flash != null && choice.flash(w, h, () -> {
            try (Graph probe = new Graph("unet", backend)) {
                return probe.measureComputeBytes(backend, build(probe, unet, w, h, c, tokens, batch, adm).out());
            }
        })) {
            use = flash;
            LOG.debug("U-Net at {}x{} latent (batch {}): flash attention", w, h, batch);
        }
        Graph g = new Graph("unet", backend);
        try {
            GraphIo built = build(g, use, w, h, c, tokens, batch, adm);
            compiled = g.compile(backend, built.out());
            io = built;
            current = use;
            graph = g;
            key = k;
            graphBuilds++;
            maxComputeBytes = Math.max(maxComputeBytes, compiled.computeBytes());
            LOG.debug("U-Net graph for {}x{}, {} tokens, batch {}: {} nodes, {} MiB compute", w, h, tokens, batch,
                    compiled.nodeCount(), compiled.computeBytes() >> 20);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** A U-Net graph's inputs (y only with a class/vector embedding) and its output. */
    private record GraphIo(Tensor x, Tensor t, Tensor context, Tensor y, Tensor out) {
        /** Sets the inputs; {@code vector} is read only when the graph has a y input. */
        void feed(float[] latent, float[] timesteps, float[] ctx, float[] vector) {
            x.setFloats(latent);
            t.setFloats(timesteps);
            context.setFloats(ctx);
            if (y != null) {
                y.setFloats(vector);
            }
        }
    }

    /** Declares the inputs on {@code g} and builds the forward pass of {@code net} over them. */
    private static GraphIo build(Graph g, UNet net, int w, int h, int c, int tokens, int batch, int adm) {
        Tensor x = g.input("x", GgmlType.F32, w, h, c, batch);
        Tensor t = g.input("timesteps", GgmlType.F32, batch);
        Tensor context = g.input("context", GgmlType.F32, net.config().contextDim(), tokens, batch);
        Tensor y = adm > 0 ? g.input("y", GgmlType.F32, adm, batch) : null;
        return new GraphIo(x, t, context, y, net.forward(g, x, t, context, y));
    }

    private void release() {
        if (compiled != null) {
            compiled.close();
            compiled = null;
        }
        if (graph != null) {
            graph.close();
            graph = null;
        }
        io = null;
        key = new long[0];
    }

    @Override
    public void close() {
        release();
    }
}
