package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.vae.AutoencoderKL;

/** Runs the VAE decoder and encoder graphs (built per call: their sizes change with the image). */
final class VaeRunner implements AutoCloseable {
    private final AutoencoderKL vae;
    private final Backend backend;

    VaeRunner(AutoencoderKL vae, Backend backend) {
        this.vae = vae;
        this.backend = backend;
    }

    /** Latent [w, h, z] (already divided by the scale factor) to an image [fw, fh, 3] roughly in [-1, 1]. */
    float[] decode(float[] latent, int w, int h, int z) {
        try (Graph g = new Graph("vae-decode")) {
            Tensor in = g.input("z", GgmlType.F32, w, h, z, 1);
            Tensor out = vae.decode(g, in);
            try (CompiledGraph c = g.compile(backend, out)) {
                in.setFloats(latent);
                c.compute();
                return out.getFloats();
            }
        }
    }

    /** Image [W, H, 3] in [-1, 1] to moments [W/f, H/f, 2z] (means first, then log-variances). */
    float[] encode(float[] image, int width, int height) {
        try (Graph g = new Graph("vae-encode")) {
            Tensor in = g.input("image", GgmlType.F32, width, height, 3, 1);
            Tensor out = vae.encode(g, in);
            try (CompiledGraph c = g.compile(backend, out)) {
                in.setFloats(image);
                c.compute();
                return out.getFloats();
            }
        }
    }

    /** Nothing to free: the graphs are built and freed per call. */
    @Override
    public void close() {
    }
}
