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
import java.util.List;
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
    private final Map<String, long[]> kernelShapes = new HashMap<>();
    private MemorySegment buffer = MemorySegment.NULL;
    private Backend backend;
    private final List<MemorySegment> hostBuffers = new ArrayList<>();
    private final List<MappedFile> mappings = new ArrayList<>();
    private long hostBytes;

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

    /**
     * Declares a convolution kernel held as a matrix: {@code kernelNe} is its ggml shape [KW, KH, IC, OC], the tensor
     * is [KW·KH·IC, OC] (the same elements in the same order), so that a type whose blocks do not fit a kernel row of
     * KW elements (a quantized one) can hold it. {@link #kernelShape} gives the shape back to the layer builders.
     */
    public Tensor createKernelMatrix(String name, GgmlType type, long[] kernelNe) {
        if (kernelNe.length != 4) {
            throw new GgmlException(describe() + ": kernel '" + name + "' needs a 4-D shape, got "
                    + java.util.Arrays.toString(kernelNe));
        }
        Tensor t = create(name, type, kernelNe[0] * kernelNe[1] * kernelNe[2], kernelNe[3]);
        kernelShapes.put(name, kernelNe.clone());
        return t;
    }

    /** The [KW, KH, IC, OC] shape of a kernel declared with {@link #createKernelMatrix}; empty for other tensors. */
    public java.util.Optional<long[]> kernelShape(String name) {
        long[] ne = kernelShapes.get(name);
        return ne == null ? java.util.Optional.empty() : java.util.Optional.of(ne.clone());
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
     * Points declared tensors at bytes of a memory-mapped file instead of allocating and filling them:
     * CPU backend only, before {@link #allocate}. The tensors' bytes must already be in their declared type and
     * layout. The store takes ownership of the mapping and unmaps it when it is closed, after freeing the buffer
     * over it; on failure it unmaps it at once.
     *
     * @param offsets byte offset in the mapped file of each tensor to place
     * @throws GgmlException if the backend cannot wrap host memory or a tensor does not fit in the file
     */
    public void placeInHostMemory(Backend backend, MappedFile mapping, Map<String, Long> offsets) {
        try {
            MemorySegment region = mapping.segment();
            if (buffer.address() != 0) {
                throw new IllegalStateException(describe() + " is already allocated");
            }
            if (!backend.isCpu()) {
                throw new GgmlException("host memory can back weights only on the CPU backend, not on "
                        + backend.device().name());
            }
            for (Map.Entry<String, Long> e : offsets.entrySet()) {
                Tensor t = get(e.getKey());
                if (t.hasData()) {
                    throw new IllegalStateException("tensor '" + e.getKey() + "' of " + describe() + " already has memory");
                }
                if (e.getValue() < 0 || e.getValue() + t.byteSize() > region.byteSize()) {
                    throw new GgmlException("tensor '" + e.getKey() + "' (" + t.byteSize() + " bytes at " + e.getValue()
                            + ") lies outside the " + region.byteSize() + "-byte host region");
                }
            }
            MemorySegment b = ggml_h.ggml_backend_dev_buffer_from_host_ptr(
                    ggml_h.ggml_backend_get_device(backend.handle()), region, region.byteSize(), region.byteSize());
            if (b.equals(MemorySegment.NULL)) {
                throw new GgmlException(backend.device().name() + " cannot use host memory as a weight buffer");
            }
            hostBuffers.add(b);
            for (Map.Entry<String, Long> e : offsets.entrySet()) {
                Tensor t = get(e.getKey());
                int status = ggml_h.ggml_backend_tensor_alloc(b, t.ptr(), region.asSlice(e.getValue(), t.byteSize()));
                if (status != 0) {
                    throw new GgmlException("ggml could not place tensor '" + e.getKey() + "' in host memory (status "
                            + status + ")");
                }
                hostBytes += t.byteSize();
            }
            mappings.add(mapping);
            this.backend = backend;
        } catch (RuntimeException e) {
            mapping.close();
            throw e;
        }
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

    /** Allocates one backend buffer for all declared tensors not already placed in host memory. */
    public void allocate(Backend backend) {
        if (buffer.address() != 0) {
            throw new IllegalStateException(describe() + " is already allocated");
        }
        if (tensors.isEmpty()) {
            throw new IllegalStateException(describe() + " has no tensors");
        }
        if (tensors.values().stream().allMatch(Tensor::hasData)) {
            this.backend = backend; // every tensor lives in host memory: nothing left to allocate
            return;
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

    /** Bytes of weights: the allocated backend buffer (0 before allocation) plus the tensors in host memory. */
    public long bufferBytes() {
        return (buffer.address() == 0 ? 0 : ggml_h.ggml_backend_buffer_get_size(buffer)) + hostBytes;
    }

    /** Bytes of the tensors that live in host memory ({@link #placeInHostMemory}) rather than in an own buffer. */
    public long hostBytes() {
        return hostBytes;
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
        for (MemorySegment b : hostBuffers) {
            ggml_h.ggml_backend_buffer_free(b);
        }
        hostBuffers.clear();
        for (MappedFile m : mappings) {
            m.close();
        }
        mappings.clear();
    }
}
