package io.sdj.adapters;

import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.LowRank;
import io.sdj.runtime.ScratchSpace;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.TypeConverter;
import io.sdj.runtime.WeightStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Keeps one weight store patched with a set of LoRAs, and changes the set without reading the model again.
 *
 * <p><b>Merge</b> ({@link LoraApplyMode#IMMEDIATELY}): before a weight is first changed its stored bytes are copied
 * aside; then for each LoRA in order, W ← round(W + scale·(up·down)), the product being a rank-length F32 dot per
 * element (fused multiply-adds in rank order), scaled in F32, added to the weight expanded to F32 and rounded back
 * to the weight's type (F16, F32, or requantized) — stable-diffusion.cpp's order of operations. Changing the set
 * first writes the saved bytes back, so the undo is exact.
 *
 * <p><b>Run time</b> ({@link LoraApplyMode#AT_RUNTIME}): the LoRA tensors go into a store of their own and are
 * attached to the weights as {@link LowRank} terms, which the layer builders add to the layers' outputs; the weights
 * are not touched. Graphs built over the store must then be rebuilt ({@link #apply} says so).
 */
public final class LoraPatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoraPatcher.class);

    private final WeightStore store;
    private final Backend backend;
    private final String label;
    private List<ActiveLora> applied = List.of();
    private boolean appliedRuntime;
    private Arena originalsArena;
    private final Map<String, MemorySegment> originals = new LinkedHashMap<>();
    private WeightStore runtimeStore;

    public LoraPatcher(WeightStore store, Backend backend, String label) {
        this.store = store;
        this.backend = backend;
        this.label = label;
    }

    /** Whether these LoRAs use run-time application on this store in this mode. */
    public boolean runtimeFor(LoraApplyMode mode) {
        return switch (mode) {
            case AT_RUNTIME -> true;
            case IMMEDIATELY -> false;
            case AUTO -> store.tensors().values().stream().anyMatch(t -> t.type().isQuantized());
        };
    }

    /** True when the store carries exactly these LoRAs in this mode. */
    public boolean isCurrent(List<ActiveLora> loras, LoraApplyMode mode) {
        List<ActiveLora> mine = relevant(loras);
        if (mine.size() != applied.size()) {
            return false;
        }
        for (int i = 0; i < mine.size(); i++) {
            if (!mine.get(i).sameAs(applied.get(i))) {
                return false;
            }
        }
        return mine.isEmpty() || appliedRuntime == runtimeFor(mode);
    }

    /**
     * Makes the store carry exactly {@code loras} (in this order; modules for weights of other stores are skipped).
     *
     * @return true when the run-time terms changed, so graphs built over the store must be rebuilt
     */
    public boolean apply(List<ActiveLora> loras, LoraApplyMode mode) {
        if (isCurrent(loras, mode)) {
            return false;
        }
        List<ActiveLora> mine = relevant(loras);
        boolean runtime = !mine.isEmpty() && runtimeFor(mode);
        boolean graphsChange = appliedRuntime || runtime;
        undo();
        try {
            if (runtime) {
                attach(mine);
            } else if (!mine.isEmpty()) {
                merge(mine);
            }
        } catch (RuntimeException e) {
            undo(); // weights merged so far are written back: the store is left without LoRAs
            throw e;
        }
        applied = mine;
        appliedRuntime = runtime;
        return graphsChange;
    }

    /** The LoRAs with at least one module for this store, each reduced to those modules. */
    private List<ActiveLora> relevant(List<ActiveLora> loras) {
        List<ActiveLora> out = new ArrayList<>();
        for (ActiveLora l : loras) {
            List<LoraModule> mods = l.modules().stream().filter(m -> store.tensors().containsKey(m.target())).toList();
            if (!mods.isEmpty()) {
                out.add(new ActiveLora(l.file(), l.multiplier(), mods));
            }
        }
        return out;
    }

    /** Restores every merged weight and drops the run-time terms. */
    private void undo() {
        for (Map.Entry<String, MemorySegment> e : originals.entrySet()) {
            store.get(e.getKey()).write(e.getValue(), 0);
        }
        originals.clear();
        if (originalsArena != null) {
            originalsArena.close();
            originalsArena = null;
        }
        store.clearLowRank();
        if (runtimeStore != null) {
            runtimeStore.close();
            runtimeStore = null;
        }
        applied = List.of();
        appliedRuntime = false;
    }

    private void merge(List<ActiveLora> loras) {
        long t0 = System.nanoTime();
        originalsArena = Arena.ofShared();
        Map<String, List<Term>> byTarget = new LinkedHashMap<>();
        int modules = 0;
        for (ActiveLora l : loras) {
            for (LoraModule m : l.modules()) {
                byTarget.computeIfAbsent(m.target(), k -> new ArrayList<>()).add(new Term(m, m.scale(l.multiplier())));
                modules++;
            }
        }
        try (ScratchSpace scratch = new ScratchSpace()) { // mapped pages: nothing stays resident after the merge
            for (Map.Entry<String, List<Term>> e : byTarget.entrySet()) {
                Tensor w = store.get(e.getKey());
                MemorySegment orig = originalsArena.allocate(w.byteSize(), 64);
                w.read(orig);
                originals.put(e.getKey(), orig);
                scratch.reset();
                MemorySegment cur = orig;
                // a kernel matrix was quantized at load with ggml's plain rounding (WeightLoader): requantize alike
                TypeConverter.Rounding rounding = store.kernelShape(e.getKey()).isPresent()
                        ? TypeConverter.Rounding.PLAIN : TypeConverter.Rounding.SD_CPP;
                for (Term t : e.getValue()) {
                    cur = addDelta(cur, w, t, scratch, rounding);
                }
                w.write(cur, 0);
            }
        }
        LOG.info("{}: merged {} LoRA module(s) of {} file(s) into {} weights in {} s", label, modules, loras.size(),
                byTarget.size(), String.format(java.util.Locale.ROOT, "%.2f", (System.nanoTime() - t0) / 1e9));
    }

    private record Term(LoraModule module, float scale) {
    }

    /** round_type(W + scale · up · down), W in the tensor's type; returns the new bytes. */
    private static MemorySegment addDelta(MemorySegment bytes, Tensor w, Term term, SegmentAllocator scratch,
                                          TypeConverter.Rounding rounding) {
        GgmlType type = w.type();
        long rowLength = w.ne(0);
        long n = w.elementCount();
        long rows = n / rowLength;
        MemorySegment f32 = scratch.allocate(4 * n, 64);
        TypeConverter.convert(bytes, type, f32, GgmlType.F32, rows, rowLength, scratch);
        float[] v = f32.toArray(ValueLayout.JAVA_FLOAT);
        addDelta(v, term.module(), term.scale());
        MemorySegment.copy(v, 0, f32, ValueLayout.JAVA_FLOAT, 0, v.length);
        MemorySegment out = scratch.allocate(w.byteSize(), 64);
        TypeConverter.convert(f32, GgmlType.F32, out, type, rows, rowLength, scratch, rounding);
        return out;
    }

    /** w[o, j] += scale · Σ_r up[o, r] · down[r, j], the sum in F32 in rank order with fused multiply-adds. */
    static void addDelta(float[] w, LoraModule m, float scale) {
        int rank = m.rank();
        int cols = m.columns();
        int rows = m.rows();
        float[] up = m.up();
        float[] down = m.down();
        int first = m.firstRow();
        if ((long) (first + rows) * cols > w.length || (m.part() < 0 && (long) rows * cols != w.length)) {
            throw new IllegalStateException(m.key() + ": " + rows + "×" + cols + " does not fit " + w.length);
        }
        IntStream.range(0, rows).parallel().forEach(o -> {
            int base = (first + o) * cols;
            int ub = o * rank;
            for (int j = 0; j < cols; j++) {
                float s = 0.0f;
                for (int r = 0; r < rank; r++) {
                    s = Math.fma(up[ub + r], down[r * cols + j], s);
                }
                w[base + j] += s * scale;
            }
        });
    }

    private void attach(List<ActiveLora> loras) {
        int count = 0;
        for (ActiveLora l : loras) {
            count += l.modules().size();
        }
        WeightStore rs = new WeightStore(label + " lora", 2 * count);
        try {
            List<Tensor[]> made = new ArrayList<>();
            int i = 0;
            for (ActiveLora l : loras) {
                for (LoraModule m : l.modules()) {
                    Tensor w = store.get(m.target());
                    boolean conv = w.ne(2) > 1 || w.ne(3) > 1 || store.kernelShape(m.target()).isPresent();
                    GgmlType type = conv || m.dtype() == io.sdj.model.DType.F16 ? GgmlType.F16 : GgmlType.F32;
                    String p = "lora" + i++ + "." + m.target();
                    Tensor down;
                    Tensor up;
                    if (conv) {
                        long in = m.columns() / ((long) m.kernel() * m.kernel());
                        down = rs.create(p + ".down", type, m.kernel(), m.kernel(), in, m.rank());
                        up = rs.create(p + ".up", type, 1, 1, m.rank(), m.rows());
                    } else {
                        down = rs.create(p + ".down", type, m.columns(), m.rank());
                        up = rs.create(p + ".up", type, m.rank(), m.rows());
                    }
                    made.add(new Tensor[]{down, up});
                }
            }
            rs.allocate(backend);
            i = 0;
            for (ActiveLora l : loras) {
                for (LoraModule m : l.modules()) {
                    Tensor[] t = made.get(i++);
                    t[0].setFloats(m.down());
                    t[1].setFloats(m.up());
                    store.attachLowRank(m.runtimeKey(), new LowRank(t[0], t[1], m.scale(l.multiplier())));
                }
            }
        } catch (RuntimeException e) {
            store.clearLowRank();
            rs.close();
            throw e;
        }
        runtimeStore = rs;
        LOG.info("{}: {} LoRA module(s) of {} file(s) applied at run time", label, count, loras.size());
    }

    /** Frees the saved originals and the run-time tensors (the store is not written: it is being freed too). */
    @Override
    public void close() {
        originals.clear();
        undo();
    }
}
