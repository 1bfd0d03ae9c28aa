package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_init_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** An owned ggml context holding tensor metadata only (no_alloc); tensor data lives in backend buffers. */
abstract class GgmlContext implements TensorOwner, AutoCloseable {
    private final MemorySegment ctx;
    private volatile boolean open = true;

    GgmlContext(long metadataBytes) {
        GgmlLibrary.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = ggml_init_params.allocate(a);
            ggml_init_params.mem_size(p, metadataBytes);
            ggml_init_params.mem_buffer(p, MemorySegment.NULL);
            ggml_init_params.no_alloc(p, true);
            ctx = ggml_h.ggml_init(p);
        }
        if (ctx.equals(MemorySegment.NULL)) {
            throw new GgmlException("ggml_init failed for a context of " + metadataBytes + " bytes");
        }
    }

    static long tensorOverhead() {
        GgmlLibrary.load();
        return ggml_h.ggml_tensor_overhead();
    }

    MemorySegment ctx() {
        if (!open) {
            throw new IllegalStateException(describe() + " is closed");
        }
        return ctx;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /** Creates an uninitialised tensor of the given ggml shape (innermost first, 1 to 4 dims). */
    Tensor newTensor(GgmlType type, long... ne) {
        if (ne.length < 1 || ne.length > 4) {
            throw new GgmlException("a ggml tensor has 1 to 4 dimensions, got " + ne.length);
        }
        for (long n : ne) {
            if (n <= 0) {
                throw new GgmlException("tensor dimensions must be positive, got " + java.util.Arrays.toString(ne));
            }
        }
        if (ne[0] % type.blockSize() != 0) {
            throw new GgmlException("the innermost dimension " + ne[0] + " is not a multiple of " + type
                    + "'s block size " + type.blockSize());
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, ne);
            return new Tensor(ggml_h.ggml_new_tensor(ctx(), type.id(), ne.length, dims), this);
        }
    }

    /** Frees what the subclass owns beyond the context (buffers, allocators). */
    protected void release() {
    }

    @Override
    public synchronized void close() {
        if (open) {
            open = false;
            release();
            ggml_h.ggml_free(ctx);
        }
    }
}
