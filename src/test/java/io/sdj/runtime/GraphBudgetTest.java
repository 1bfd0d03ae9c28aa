package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A graph's tensor budget gives a Java exception before ggml would abort, and node lists never overflow. */
class GraphBudgetTest {

    @Test
    void buildingPastTheTensorBudgetThrowsBeforeGgml() {
        try (Graph g = new Graph("budget", 8)) {
            Tensor t = g.input("x", GgmlType.F32, 4);
            Tensor last = t;
            GgmlException e = null;
            for (int i = 0; i < 100 && e == null; i++) {
                try {
                    last = g.add(last, t);
                } catch (GgmlException x) {
                    e = x;
                }
            }
            assertTrue(e != null, "the budget of a size-8 graph should run out within 100 operations");
            assertTrue(e.getMessage().contains("needs more than"), e.getMessage());
        }
    }

    @Test
    void moreNodesThanTheSizeStillCompileAndCompute() {
        // size 40 once meant at most 40 nodes; the node list is now sized from the tensors actually built
        try (Graph g = new Graph("many nodes", 40)) {
            Tensor x = g.input("x", GgmlType.F32, 4);
            Tensor y = x;
            for (int i = 0; i < 30; i++) {
                y = g.scale(g.add(y, x), 0.5f);
            }
            try (CompiledGraph c = g.compile(Backends.get("cpu"), y)) {
                assertTrue(c.nodeCount() > 40, "nodes: " + c.nodeCount());
                x.setFloats(new float[]{2, 2, 2, 2});
                c.compute();
                float[] out = y.getFloats();
                // y_{i+1} = (y_i + 2) / 2 converges to 2 from 2: stays 2
                assertArrayEquals(new float[]{2, 2, 2, 2}, out, 1e-6f);
            }
        }
    }

    @Test
    void aKernelLargerThanThePaddedInputIsAJavaException() {
        try (Graph g = new Graph("conv")) {
            Tensor kernel = g.input("k", GgmlType.F16, 5, 5, 2, 3);
            Tensor x = g.input("x", GgmlType.F32, 2, 2, 2, 1);
            GgmlException e = assertThrows(GgmlException.class, () -> g.conv2d(kernel, x, 1, 1, 1, 1, 1, 1));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            assertThrows(GgmlException.class, () -> g.conv2d(kernel, x, 0, 1, 1, 1, 1, 1));
            assertThrows(GgmlException.class, () -> g.upscaleNearest(x, 0));
            assertThrows(GgmlException.class, () -> g.pad(x, -1, 0, 0, 0));
        }
    }

    @Test
    void aNonPositiveSizeIsRefused() {
        assertThrows(GgmlException.class, () -> new Graph("zero", 0));
    }
}
