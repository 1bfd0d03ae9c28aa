package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link Graph} allocated on a backend (ggml's graph allocator): set the inputs, {@link #compute()}, read the
 * outputs; repeat as often as needed. Closing frees the allocation (the graph itself is closed by its owner).
 *
 * <p>On a CPU backend with a BLAS partner ({@link Backend#hasBlas()}) the graph goes through ggml's backend
 * scheduler instead, with the BLAS backend first: it takes the matrix products it supports, the CPU backend the
 * rest, in host memory both can read. A graph with a product over quantized weights stays on the CPU backend
 * alone ({@link #blasChangesQuantizedImages}) unless the backend is set to {@link BlasUse#ALL}.
 */
public final class CompiledGraph implements AutoCloseable {
    private final Graph graph;
    private final Backend backend;
    private final MemorySegment cgraph;
    private final NodeList nodes;
    /** ggml_gallocr_t on a single backend, or NULL when {@link #sched} allocates. */
    private MemorySegment allocator = MemorySegment.NULL;
    /** ggml_backend_sched_t over the BLAS and CPU backends, or NULL. */
    private MemorySegment sched = MemorySegment.NULL;

    /** The context that holds a compiled graph's node and leaf lists. */
    private static final class NodeList extends GgmlContext {
        private final String label;

        NodeList(String label, long nodes) {
            super(Graph.graphOverhead(nodes) + 1024);
            this.label = label;
        }

        @Override
        public String describe() {
            return "node list of " + label;
        }
    }

    CompiledGraph(Graph graph, Backend backend, Tensor... outputs) {
        if (outputs.length == 0) {
            throw new GgmlException("compile " + graph.describe() + ": no outputs given");
        }
        for (Tensor t : outputs) {
            t.ptr();
        }
        this.graph = graph;
        this.backend = backend;
        // the node list lives in its own context, sized for every tensor the graph can reach, so that ggml's
        // "too many nodes" assertion cannot fire whatever the model's layer count
        long bound = graph.nodeBound() + outputs.length;
        if (bound > Integer.MAX_VALUE / 4) {
            throw new GgmlException(graph.describe() + " has too many tensors (" + bound + ")");
        }
        this.nodes = new NodeList(graph.describe(), bound);
        this.cgraph = ggml_h.ggml_new_graph_custom(nodes.ctx(), bound, false);
        for (Tensor t : outputs) {
            ggml_h.ggml_set_output(t.ptr());
        }
        expand(cgraph, outputs, bound);
        try {
            requireSupported(graph, backend, cgraph);
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
        boolean allocated;
        if (usesBlas(backend, cgraph)) {
            sched = newScheduler(backend, bound);
            allocated = ggml_h.ggml_backend_sched_alloc_graph(sched, cgraph);
        } else {
            allocator = ggml_h.ggml_gallocr_new(ggml_h.ggml_backend_get_default_buffer_type(backend.handle()));
            allocated = ggml_h.ggml_gallocr_alloc_graph(allocator, cgraph);
        }
        if (!allocated) {
            freeAllocation();
            nodes.close();
            throw new GgmlException("could not allocate compute memory for " + graph.describe() + " on " + backend.device().name());
        }
    }

    /**
     * Whether the graph goes through the BLAS partner: when the backend has one and, unless it is set to
     * {@link BlasUse#ALL}, no product in the graph has quantized weights ({@link #blasChangesQuantizedImages}).
     */
    private static boolean usesBlas(Backend backend, MemorySegment cgraph) {
        return backend.hasBlas() && (backend.blasUse() == BlasUse.ALL || !blasChangesQuantizedImages(cgraph));
    }

    /**
     * Parity quirk: true for a graph with a matrix product over quantized weights, which then runs on the CPU
     * backend alone. ggml's CPU kernels quantize such a product's activations (to q8_0, q8_1 or q8_K) before
     * multiplying, and that rounding amplifies any small difference upstream: sgemm's other order of F16 sums in
     * the same graph's F16 convolutions moved the quantized golden images (SD 1.5 c07/c08, SD 2.1 s06/s07, SDXL
     * g06/g07, LoRA l06, TAESD t04) by 0.8 to 2.2/255 mean, max up to 16, where the F16 cases move under 0.1.
     * On the CPU backend alone such a graph computes the same bits as without BLAS. {@link BlasUse#ALL} overrides
     * this for speed.
     */
    static boolean blasChangesQuantizedImages(MemorySegment cgraph) {
        int n = ggml_h.ggml_graph_n_nodes(cgraph);
        int mulMat = ggml_h.GGML_OP_MUL_MAT();
        for (int i = 0; i < n; i++) {
            MemorySegment node = ggml_h.ggml_graph_node(cgraph, i);
            if (ggml_tensor.op(node) == mulMat
                    && ggml_h.ggml_is_quantized(ggml_tensor.type(ggml_tensor.src(node, 0)))) {
                return true;
            }
        }
        return false;
    }

    /** A scheduler over {@code backend}'s BLAS partner (first, so it gets the products) and the CPU backend. */
    private static MemorySegment newScheduler(Backend backend, long graphSize) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment list = a.allocate(ValueLayout.ADDRESS, 2);
            list.setAtIndex(ValueLayout.ADDRESS, 0, backend.blasHandle());
            list.setAtIndex(ValueLayout.ADDRESS, 1, backend.handle());
            // no parallel copies, no offloading of weights: both backends work on host memory
            MemorySegment s = ggml_h.ggml_backend_sched_new(list, MemorySegment.NULL, 2, graphSize, false, false);
            if (s.equals(MemorySegment.NULL)) {
                throw new GgmlException("ggml could not create a scheduler for the BLAS and CPU backends");
            }
            return s;
        }
    }

    /**
     * Refuses a graph with an operation the backend cannot run (computing it would abort the process), naming the
     * first such operation and its shape.
     */
    private static void requireSupported(Graph graph, Backend backend, MemorySegment cgraph) {
        int n = ggml_h.ggml_graph_n_nodes(cgraph);
        for (int i = 0; i < n; i++) {
            MemorySegment node = ggml_h.ggml_graph_node(cgraph, i);
            if (!ggml_h.ggml_backend_supports_op(backend.handle(), node)) {
                Tensor t = new Tensor(node, graph);
                throw new GgmlException(backend.device().name() + " cannot run operation "
                        + Backend.str(ggml_h.ggml_op_desc(node)) + " of " + graph.describe() + " (result "
                        + t.type() + " " + java.util.Arrays.toString(t.ne()) + ")");
            }
        }
    }

    /** Compute bytes the allocator would reserve for the graph, without allocating (ggml_gallocr_reserve_n_size). */
    static long measure(Graph graph, Backend backend, Tensor... outputs) {
        if (outputs.length == 0) {
            throw new GgmlException("measure " + graph.describe() + ": no outputs given");
        }
        long bound = graph.nodeBound() + outputs.length;
        try (NodeList list = new NodeList(graph.describe(), bound)) {
            MemorySegment cgraph = ggml_h.ggml_new_graph_custom(list.ctx(), bound, false);
            for (Tensor t : outputs) {
                ggml_h.ggml_set_output(t.ptr());
            }
            expand(cgraph, outputs, bound);
            if (usesBlas(backend, cgraph)) {
                MemorySegment s = newScheduler(backend, bound);
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment sizes = a.allocate(ValueLayout.JAVA_LONG, 2);
                    ggml_h.ggml_backend_sched_reserve_size(s, cgraph, sizes);
                    // both backends allocate from the host buffer type; ggml then shares one allocator between them
                    // and reports its size for each
                    boolean shared = ggml_h.ggml_backend_sched_get_buffer_type(s, backend.blasHandle())
                            .equals(ggml_h.ggml_backend_sched_get_buffer_type(s, backend.handle()));
                    return sizes.getAtIndex(ValueLayout.JAVA_LONG, 0)
                            + (shared ? 0 : sizes.getAtIndex(ValueLayout.JAVA_LONG, 1));
                } finally {
                    ggml_h.ggml_backend_sched_free(s);
                }
            }
            MemorySegment galloc = ggml_h.ggml_gallocr_new(ggml_h.ggml_backend_get_default_buffer_type(backend.handle()));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sizes = a.allocate(ValueLayout.JAVA_LONG);
                ggml_h.ggml_gallocr_reserve_n_size(galloc, cgraph, MemorySegment.NULL, MemorySegment.NULL, sizes);
                return sizes.get(ValueLayout.JAVA_LONG, 0);
            } finally {
                ggml_h.ggml_gallocr_free(galloc);
            }
        }
    }

    /** Native stack per tensor the graph can reach: generous for ggml's recursive visit of a node's sources. */
    private static final long STACK_BYTES_PER_TENSOR = 1024;

    /**
     * ggml_build_forward_expand visits sources recursively, one native frame per level of the graph's depth; a
     * deep model (many blocks in a chain) overflows an ordinary thread's stack and the process dies with SIGSEGV.
     * The expansion therefore runs on a thread whose stack is sized for the deepest graph the tensors allow.
     */
    private static void expand(MemorySegment cgraph, Tensor[] outputs, long tensors) {
        long stack = Math.max(8L << 20, tensors * STACK_BYTES_PER_TENSOR);
        RuntimeException[] failure = new RuntimeException[1];
        Thread t = Thread.ofPlatform().name("sdj-graph-expand").stackSize(stack).unstarted(() -> {
            try {
                for (Tensor o : outputs) {
                    ggml_h.ggml_build_forward_expand(cgraph, o.ptr());
                }
            } catch (RuntimeException e) {
                failure[0] = e;
            }
        });
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the expansion cannot be abandoned half-way: the graph is in use
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** Number of nodes (operations) in the graph. */
    public int nodeCount() {
        return ggml_h.ggml_graph_n_nodes(cgraph);
    }

    /** Bytes of compute memory the allocator reserved (on both backends, with a BLAS partner). */
    public long computeBytes() {
        if (!sched.equals(MemorySegment.NULL)) {
            return ggml_h.ggml_backend_sched_get_buffer_size(sched, backend.blasHandle())
                    + ggml_h.ggml_backend_sched_get_buffer_size(sched, backend.handle());
        }
        return ggml_h.ggml_gallocr_get_buffer_size(allocator, 0);
    }

    /** Whether this graph runs through the BLAS partner (see {@link #usesBlas}). */
    public boolean usesBlas() {
        return !sched.equals(MemorySegment.NULL);
    }

    /** Parts the scheduler cut the graph into (runs of operations on one backend); 1 without a scheduler. */
    public int splitCount() {
        return sched.equals(MemorySegment.NULL) ? 1 : ggml_h.ggml_backend_sched_get_n_splits(sched);
    }

    /** Runs the graph on its backend. */
    public void compute() {
        if (allocator.equals(MemorySegment.NULL) && sched.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("compiled " + graph.describe() + " is closed");
        }
        graph.ctx();
        int status = sched.equals(MemorySegment.NULL) ? ggml_h.ggml_backend_graph_compute(backend.handle(), cgraph)
                : ggml_h.ggml_backend_sched_graph_compute(sched, cgraph);
        if (status != 0) {
            throw new GgmlException("computing " + graph.describe() + " on " + backend.device().name()
                    + " failed (ggml status " + status + ")");
        }
    }

    public Backend backend() {
        return backend;
    }

    private void freeAllocation() {
        if (!allocator.equals(MemorySegment.NULL)) {
            ggml_h.ggml_gallocr_free(allocator);
            allocator = MemorySegment.NULL;
        }
        if (!sched.equals(MemorySegment.NULL)) {
            ggml_h.ggml_backend_sched_free(sched);
            sched = MemorySegment.NULL;
        }
    }

    @Override
    public void close() {
        freeAllocation();
        nodes.close();
    }
}
