package io.sdj.family;

import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.unet.UNet;

import java.util.Arrays;

/** Runs the U-Net: one compiled graph per latent size and context length, reused across steps and images. */
public final class UNetRunner implements DiffusionModel {
    private final UNet unet;
    private final Backend backend;
    private Graph graph;
    private CompiledGraph compiled;
    private Tensor x;
    private Tensor t;
    private Tensor context;
    private Tensor y;
    private Tensor out;
    private long[] key = new long[0];

    public UNetRunner(UNet unet, Backend backend) {
        this.unet = unet;
        this.backend = backend;
    }

    /** Width of the cross-attention context the U-Net takes. */
    public int contextDim() {
        return unet.config().contextDim();
    }

    @Override
    public int inChannels() {
        return unet.config().inChannels();
    }

    @Override
    public float[] predict(float[] latent, int w, int h, float timestep, Conditioning c) {
        int adm = unet.config().admInChannels();
        if (c.contextDim() != unet.config().contextDim()) {
            throw new io.sdj.InvalidParameterException("context", "is " + c.contextDim() + " wide; the U-Net takes "
                    + unet.config().contextDim());
        }
        if (adm > 0 && (c.vector() == null || c.vector().length != adm)) {
            throw new io.sdj.InvalidParameterException("y", "the U-Net needs a " + adm + "-wide conditioning vector");
        }
        prepare(w, h, c.tokens());
        x.setFloats(latent);
        t.setFloats(new float[]{timestep});
        context.setFloats(c.context());
        if (y != null) {
            y.setFloats(c.vector());
        }
        compiled.compute();
        return out.getFloats();
    }

    private void prepare(int w, int h, int tokens) {
        long[] k = {w, h, tokens};
        if (Arrays.equals(k, key)) {
            return;
        }
        release();
        int c = unet.config().inChannels();
        int adm = unet.config().admInChannels();
        Graph g = new Graph("unet");
        try {
            x = g.input("x", GgmlType.F32, w, h, c, 1);
            t = g.input("timesteps", GgmlType.F32, 1);
            context = g.input("context", GgmlType.F32, unet.config().contextDim(), tokens, 1);
            y = adm > 0 ? g.input("y", GgmlType.F32, adm, 1) : null;
            out = unet.forward(g, x, t, context, y);
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
