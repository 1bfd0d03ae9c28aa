package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.unet.UNet;

/**
 * Runs the U-Net: one compiled graph per latent size and context length, reused across steps and images.
 */
final class UNetRunner implements AutoCloseable {
    private final UNet unet;
    private final Backend backend;
    private Graph graph;
    private CompiledGraph compiled;
    private Tensor x;
    private Tensor t;
    private Tensor context;
    private Tensor out;
    private long[] key = new long[0];

    UNetRunner(UNet unet, Backend backend) {
        this.unet = unet;
        this.backend = backend;
    }

    /**
     * Predicts the noise for latent {@code latent} ([w, h, c], w fastest) at DDPM timestep {@code timestep} with the
     * text context ([contextDim, tokens], contextDim fastest).
     */
    float[] predict(float[] latent, int w, int h, float timestep, float[] ctx, int tokens) {
        prepare(w, h, tokens);
        x.setFloats(latent);
        t.setFloats(new float[]{timestep});
        context.setFloats(ctx);
        compiled.compute();
        return out.getFloats();
    }

    private void prepare(int w, int h, int tokens) {
        long[] k = {w, h, tokens};
        if (java.util.Arrays.equals(k, key)) {
            return;
        }
        release();
        int c = unet.config().inChannels();
        Graph g = new Graph("unet");
        try {
            x = g.input("x", GgmlType.F32, w, h, c, 1);
            t = g.input("timesteps", GgmlType.F32, 1);
            context = g.input("context", GgmlType.F32, unet.config().contextDim(), tokens, 1);
            out = unet.forward(g, x, t, context);
            compiled = g.compile(backend, out);
            graph = g;
            key = k;
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
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
        key = new long[0];
    }

    @Override
    public void close() {
        release();
    }
}
