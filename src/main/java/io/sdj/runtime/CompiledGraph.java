package io.sdj.runtime;

import io.sdj.ggml.ggml_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link Graph} allocated on a backend (ggml's graph allocator): set the inputs, {@link #compute()}, read the
 * outputs; repeat as often as needed. Closing frees the allocation (the graph itself is closed by its owner).
 */
public final class CompiledGraph implements AutoCloseable {
    private final Graph graph;
    private final Backend backend;
    private final MemorySegment cgraph;
    private MemorySegment allocator;

    CompiledGraph(Graph graph, Backend backend, Tensor... outputs) {
        if (outputs.length == 0) {
            throw new GgmlException("compile " + graph.describe() + ": no outputs given");
        }
        this.graph = graph;
        this.backend = backend;
        this.cgraph = build(graph, outputs);
        requireSupported(graph, backend, cgraph);
        allocator = ggml_h.ggml_gallocr_new(ggml_h.ggml_backend_get_default_buffer_type(backend.handle()));
        if (!ggml_h.ggml_gallocr_alloc_graph(allocator, cgraph)) {
            ggml_h.ggml_gallocr_free(allocator);
            allocator = MemorySegment.NULL;
            throw new GgmlException("could not allocate compute memory for " + graph.describe() + " on " + backend.device().name());
        }
    }

    private static MemorySegment build(Graph graph, Tensor... outputs) {
        MemorySegment cgraph = graph.newCgraph();
        for (Tensor t : outputs) {
            ggml_h.ggml_set_output(t.ptr());
            ggml_h.ggml_build_forward_expand(cgraph, t.ptr());
        }
        int nodes = ggml_h.ggml_graph_n_nodes(cgraph);
        if (nodes >= graph.size()) {
            throw new GgmlException(graph.describe() + " has " + nodes + " nodes, more than its size " + graph.size());
        }
        return cgraph;
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
        MemorySegment cgraph = build(graph, outputs);
        MemorySegment galloc = ggml_h.ggml_gallocr_new(ggml_h.ggml_backend_get_default_buffer_type(backend.handle()));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sizes = a.allocate(ValueLayout.JAVA_LONG);
            ggml_h.ggml_gallocr_reserve_n_size(galloc, cgraph, MemorySegment.NULL, MemorySegment.NULL, sizes);
            return sizes.get(ValueLayout.JAVA_LONG, 0);
        } finally {
            ggml_h.ggml_gallocr_free(galloc);
        }
    }

    /** Number of nodes (operations) in the graph. */
    public int nodeCount() {
        return ggml_h.ggml_graph_n_nodes(cgraph);
    }

    /** Bytes of compute memory the allocator reserved. */
    public long computeBytes() {
        return ggml_h.ggml_gallocr_get_buffer_size(allocator, 0);
    }

    /** Runs the graph on its backend. */
    public void compute() {
        if (allocator.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("compiled " + graph.describe() + " is closed");
        }
        graph.ctx();
        int status = ggml_h.ggml_backend_graph_compute(backend.handle(), cgraph);
        if (status != 0) {
            throw new GgmlException("computing " + graph.describe() + " on " + backend.device().name()
                    + " failed (ggml status " + status + ")");
        }
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        if (!allocator.equals(MemorySegment.NULL)) {
            ggml_h.ggml_gallocr_free(allocator);
            allocator = MemorySegment.NULL;
        }
    }
}
