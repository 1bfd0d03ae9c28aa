package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named tensors (model weights) held in one buffer on a backend. Declare the tensors with {@link #create}, then
 * {@link #allocate} once, then fill them ({@link Tensor#write}, {@link Tensor#setFloats}). Closing frees the buffer.
 */
public final class WeightStore extends GgmlContext {
    private static final Logger LOG = LoggerFactory.getLogger(WeightStore.class);
    private final String label;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, List<LowRank>> lowRank = new HashMap<>();
    private MemorySegment buffer = MemorySegment.NULL;
    private Backend backend;

    /** A store for up to {@code capacity} tensors. */
    public WeightStore(String label, int capacity) {
        super(tensorOverhead() * (capacity + 1L));
        this.label = label;
    }

    @Override
    public String describe() {
        return "weight store '" + label + "'";
    }

    /** Declares a tensor; shapes are in ggml order (innermost first). */
    public Tensor create(String name, GgmlType type, long... ne) {
        if (buffer.address() != 0) {
            throw new IllegalStateException(describe() + " is already allocated; declare all tensors first");
        }
        if (tensors.containsKey(name)) {
            throw new GgmlException(describe() + " already has a tensor named '" + name + "'");
        }
        Tensor t = newTensor(type, ne).name(name.length() > 63 ? name.substring(name.length() - 63) : name);
        tensors.put(name, t);
        return t;
    }

    /** The tensor declared under {@code name}. */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new GgmlException(describe() + " has no tensor '" + name + "'");
        }
        return t;
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /**
     * Adds a run-time low-rank term (a LoRA applied at run time) to the layer whose weight is {@code weightName}
     * ({@code name#i} for the i-th row block of a fused weight); the layer builders in io.sdj.nn add it to that
     * layer's output. The term's tensors are owned elsewhere.
     */
    public void attachLowRank(String weightName, LowRank term) {
        int hash = weightName.indexOf('#');
        get(hash < 0 ? weightName : weightName.substring(0, hash));
        lowRank.computeIfAbsent(weightName, k -> new ArrayList<>()).add(term);
    }

    /** The run-time low-rank terms of a weight, in the order attached (empty when none). */
    public List<LowRank> lowRank(String weightName) {
        List<LowRank> l = lowRank.get(weightName);
        return l == null ? List.of() : Collections.unmodifiableList(l);
    }

    /** Removes every run-time low-rank term. */
    public void clearLowRank() {
        lowRank.clear();
    }

    /** Allocates one backend buffer for all declared tensors. */
    public void allocate(Backend backend) {
        if (buffer.address() != 0) {
            throw new IllegalStateException(describe() + " is already allocated");
        }
        if (tensors.isEmpty()) {
            throw new IllegalStateException(describe() + " has no tensors");
        }
        MemorySegment b = ggml_h.ggml_backend_alloc_ctx_tensors(ctx(), backend.handle());
        if (b.equals(MemorySegment.NULL)) {
            long need = tensors.values().stream().mapToLong(Tensor::byteSize).sum();
            throw new GgmlException("could not allocate " + (need >> 20) + " MiB for " + describe() + " on "
                    + backend.device().name());
        }
        buffer = b;
        this.backend = backend;
        LOG.debug("{}: {} tensors, {} MiB on {}", describe(), tensors.size(), bufferBytes() >> 20, backend.device().name());
    }

    /** Bytes of the backend buffer (0 before allocation). */
    public long bufferBytes() {
        return buffer.address() == 0 ? 0 : ggml_h.ggml_backend_buffer_get_size(buffer);
    }

    public Backend backend() {
        return backend;
    }

    @Override
    protected void release() {
        if (buffer.address() != 0) {
            ggml_h.ggml_backend_buffer_free(buffer);
            buffer = MemorySegment.NULL;
        }
    }
}
