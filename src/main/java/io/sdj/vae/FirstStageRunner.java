package io.sdj.vae;

import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a first-stage graph (a VAE or TAESD decoder or encoder) on a backend, for the whole picture or tile by tile
 * ({@link Tiling}). The memory decisions are made here, in one place, from the untiled graph's compute memory as
 * ggml's allocator measures it before anything is allocated:
 * <ol>
 *   <li>with a {@link LeanGraph} (the same work with smaller buffers, such as direct convolution), that graph is
 *       used instead when the first one would need more than the lean graph's budget and the lean one needs at
 *       least a quarter less, with an INFO line;</li>
 *   <li>tiles are used when {@link VaeTiling#enabled()} asks for them, and also, with a warning in the log, when the
 *       graph chosen would still exceed the hard budget (by default the memory the device reports free).</li>
 * </ol>
 */
public final class FirstStageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(FirstStageRunner.class);
    /** Share of the device's free memory an untiled graph may take before the fallback tiles it. */
    static final double FREE_MEMORY_SHARE = 0.9;
    /**
     * The lean graph replaces an over-budget one only when it needs at least 1/LEAN_MIN_SAVING less memory: it is the
     * slower graph (direct convolution on the CPU: about 4x the time of the BLAS im2col decode), so saving a few
     * percent is not worth it (SD 1.5's decode at 1024² with BLAS: 2716 MiB im2col in bands, 2560 MiB direct).
     */
    static final long LEAN_MIN_SAVING = 4;

    /** Builds the graph of one picture or tile: input [W, H, C, 1] F32 → output. */
    @FunctionalInterface
    public interface GraphFn {
        Tensor build(Graph g, Tensor input);
    }

    /**
     * A second graph for the same work whose compute buffers are smaller (for the VAE: direct instead of im2col
     * convolution), used for an untiled run when the first graph would need more than {@code budget} bytes.
     *
     * @param what how the lean graph differs, for the log ("direct convolution")
     */
    public record LeanGraph(GraphFn fn, long budget, String what) {
    }

    private final Backend backend;
    private final VaeTiling tiling;
    private final String label;
    private volatile long lastComputeBytes;
    private volatile int lastTileCount;
    private volatile boolean lastLean;

    public FirstStageRunner(Backend backend, VaeTiling tiling, String label) {
        this.backend = backend;
        this.tiling = tiling == null ? VaeTiling.DEFAULT : tiling;
        this.label = label;
    }

    public VaeTiling tiling() {
        return tiling;
    }

    /** Latent → image: the output is {@code scale} times larger. */
    public Planar decode(Planar latent, int scale, GraphFn fn) {
        return run(latent, scale, true, fn, null);
    }

    /** {@link #decode(Planar, int, GraphFn)} with a lean graph for when {@code fn}'s would be too large (or null). */
    public Planar decode(Planar latent, int scale, GraphFn fn, LeanGraph lean) {
        return run(latent, scale, true, fn, lean);
    }

    /** Image → latent (or moments): the output is {@code scale} times smaller. */
    public Planar encode(Planar image, int scale, GraphFn fn) {
        return run(image, scale, false, fn, null);
    }

    /** {@link #encode(Planar, int, GraphFn)} with a lean graph for when {@code fn}'s would be too large (or null). */
    public Planar encode(Planar image, int scale, GraphFn fn, LeanGraph lean) {
        return run(image, scale, false, fn, lean);
    }

    /** True when the last decode or encode ran its {@link LeanGraph}. */
    public boolean lastLean() {
        return lastLean;
    }

    /** The largest compute buffer (bytes) of the last decode or encode: the whole graph's, or one tile's. */
    public long lastComputeBytes() {
        return lastComputeBytes;
    }

    /** Tiles of the last decode or encode (1 when it ran untiled). */
    public int lastTileCount() {
        return lastTileCount;
    }

    /** Compute bytes the untiled graph for this input would need (measured, nothing allocated). */
    public long measure(Planar input, GraphFn fn) {
        try (Graph g = new Graph(label, backend)) {
            Tensor in = g.input("input", GgmlType.F32, input.width(), input.height(), input.channels(), 1);
            return g.measureComputeBytes(backend, fn.build(g, in));
        }
    }

    private Planar run(Planar input, int scale, boolean upscale, GraphFn fn, LeanGraph lean) {
        lastLean = false;
        if (tiling.enabled()) {
            return runTiled(input, scale, upscale, fn);
        }
        GraphFn use = fn;
        long need = measure(input, use);
        if (lean != null && need > lean.budget()) {
            long leanNeed = measure(input, lean.fn());
            String what = upscale ? "decode" : "encode";
            if (leanNeed <= need - need / LEAN_MIN_SAVING) {
                LOG.info("{} {} of {}x{}: the graph would need {} MiB of compute memory, more than the {} MiB budget; "
                                + "using {} ({} MiB; same pixels, smaller buffers)", label, what, input.width(),
                        input.height(), need >> 20, lean.budget() >> 20, lean.what(), leanNeed >> 20);
                use = lean.fn();
                lastLean = true;
                need = leanNeed;
            } else {
                LOG.info("{} {} of {}x{}: the graph needs {} MiB of compute memory, more than the {} MiB budget, but {} "
                                + "would still need {} MiB: keeping the faster graph", label, what, input.width(),
                        input.height(), need >> 20, lean.budget() >> 20, lean.what(), leanNeed >> 20);
            }
        }
        long budget = tiling.memoryBudget() > 0 ? tiling.memoryBudget()
                : (long) (backend.freeMemory() * FREE_MEMORY_SHARE);
        if (need > budget) {
            LOG.warn("{} of {}x{}: the untiled graph needs {} MiB of compute memory, more than the {} MiB "
                            + "available on {}; falling back to tiled processing (as with --vae-tiling)", label,
                    input.width(), input.height(), need >> 20, budget >> 20, backend.device().name());
            return runTiled(input, scale, upscale, use);
        }
        lastTileCount = 1;
        return compute(input, use, true);
    }

    private Planar runTiled(Planar input, int scale, boolean upscale, GraphFn fn) {
        int smallW = upscale ? input.width() : input.width() / scale;
        int smallH = upscale ? input.height() : input.height() / scale;
        float factor = upscale ? 1.0f : VaeTiling.ENCODE_TILE_FACTOR;
        int tx = tiling.tileWidth(smallW, factor);
        int ty = tiling.tileHeight(smallH, factor);
        float overlap = tiling.effectiveOverlap();
        int count = Tiling.tileCount(smallW, smallH, tx, ty, overlap);
        LOG.info("{} of {}x{} in {} tiles of {}x{} latent pixels (overlap {})", label, input.width(), input.height(),
                count, tx, ty, overlap);
        lastComputeBytes = 0;
        lastTileCount = count;
        return Tiling.run(input, scale, upscale, tx, ty, overlap, t -> compute(t, fn, false),
                t -> LOG.debug("{}: tile {}/{} at {},{}", label, t.index() + 1, t.count(), t.x(), t.y()));
    }

    private Planar compute(Planar input, GraphFn fn, boolean whole) {
        try (Graph g = new Graph(label, backend)) {
            Tensor in = g.input("input", GgmlType.F32, input.width(), input.height(), input.channels(), 1);
            Tensor out = fn.build(g, in);
            try (CompiledGraph c = g.compile(backend, out)) {
                long bytes = c.computeBytes();
                lastComputeBytes = whole ? bytes : Math.max(lastComputeBytes, bytes);
                in.setFloats(input.data());
                c.compute();
                return new Planar(out.getFloats(), (int) out.ne(0), (int) out.ne(1), (int) out.ne(2));
            }
        }
    }
}
