package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScratchSpaceTest {
    private static final long MIB = 1L << 20;

    @Test
    void slicesAreAlignedDisjointAndWritable() {
        try (ScratchSpace s = new ScratchSpace()) {
            MemorySegment a = s.allocate(100, 64);
            MemorySegment b = s.allocate(3 * MIB, 64); // larger than the first block: a second one
            MemorySegment c = s.allocate(10, 16);
            assertEquals(0, a.address() % 64);
            assertEquals(0, b.address() % 64);
            assertEquals(0, c.address() % 16);
            a.fill((byte) 1);
            b.fill((byte) 2);
            c.fill((byte) 3);
            assertEquals(1, a.get(ValueLayout.JAVA_BYTE, 99));
            assertEquals(2, b.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(2, b.get(ValueLayout.JAVA_BYTE, 3 * MIB - 1));
            assertEquals(3, c.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void resetKeepsOneBlockAsLargeAsTheLargestItem() {
        try (ScratchSpace s = new ScratchSpace()) {
            s.allocate(2 * MIB, 64);
            s.allocate(5 * MIB, 64);
            s.allocate(MIB / 2, 64);
            long held = s.capacity();
            assertTrue(held >= 7 * MIB + MIB / 2, "holds " + held);
            s.reset();
            assertEquals(held, s.capacity(), "the blocks become one of the same size");
            // the same item again fits without growing
            MemorySegment x = s.allocate(2 * MIB, 64);
            MemorySegment y = s.allocate(5 * MIB, 64);
            s.allocate(MIB / 2, 64);
            assertEquals(held, s.capacity());
            assertTrue(y.address() >= x.address() + 2 * MIB, "slices of one item never overlap");
        }
    }

    @Test
    void closedSpaceRefusesWork() {
        ScratchSpace s = new ScratchSpace();
        s.allocate(MIB, 64);
        s.close();
        s.close(); // idempotent
        assertEquals(0, s.capacity());
        assertThrows(IllegalStateException.class, () -> s.allocate(16, 16));
    }
}
