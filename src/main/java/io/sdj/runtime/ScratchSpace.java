package io.sdj.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * Scratch memory for work done one item at a time, such as reading and converting one tensor after another:
 * {@link #allocate} hands out slices, {@link #reset} takes them all back for the next item, and the space keeps
 * one block sized for the largest item seen, so the pages are faulted in once rather than per item.
 *
 * <p>The blocks are pages mapped from the kernel ({@code mmap}), not the C heap, so {@link #close} gives them back
 * to the system at once. Buffers of tens of MiB taken from glibc's {@code malloc} (what {@link Arena#ofConfined}
 * uses) end up in its per-thread arenas and stay resident after they are freed, which {@code malloc_trim} does not
 * undo: loading SD 1.x with q4_0 conversion left ~110 MiB resident that way. Where there is no mmap the blocks come
 * from a shared arena instead.
 *
 * <p>Not thread-safe; one thread at a time may use a space (it may be handed from thread to thread).
 */
public final class ScratchSpace implements SegmentAllocator, AutoCloseable {
    private static final long MIN_BLOCK = 1L << 20;

    private final List<Block> blocks = new ArrayList<>();
    private SegmentAllocator current;
    private boolean closed;

    /** A space with no memory yet; the first allocation maps the first block. */
    public ScratchSpace() {
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (closed) {
            throw new IllegalStateException("scratch space is closed");
        }
        if (current != null) {
            try {
                return current.allocate(byteSize, byteAlignment);
            } catch (IndexOutOfBoundsException full) {
                // falls through to a new block
            }
        }
        Block b = Block.map(Math.max(MIN_BLOCK, byteSize + byteAlignment));
        blocks.add(b);
        current = SegmentAllocator.slicingAllocator(b.segment);
        return current.allocate(byteSize, byteAlignment);
    }

    /**
     * Takes back every slice handed out so far; they must not be used afterwards. If the last item needed more
     * than one block, they are replaced by a single block as large as all of them.
     */
    public void reset() {
        if (blocks.size() > 1) {
            long total = 0;
            for (Block b : blocks) {
                total += b.segment.byteSize();
                b.free();
            }
            blocks.clear();
            blocks.add(Block.map(total));
        }
        current = blocks.isEmpty() ? null : SegmentAllocator.slicingAllocator(blocks.getFirst().segment);
    }

    /** Bytes of memory the space holds. */
    public long capacity() {
        long total = 0;
        for (Block b : blocks) {
            total += b.segment.byteSize();
        }
        return total;
    }

    /** Frees every block; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Block b : blocks) {
            b.free();
        }
        blocks.clear();
        current = null;
    }

    /** One block: mapped pages, or (without mmap) an arena's segment. */
    private record Block(MemorySegment segment, Arena arena) {
        static Block map(long size) {
            return MappedFile.mapPages(size).map(s -> new Block(s, null)).orElseGet(() -> {
                Arena a = Arena.ofShared();
                return new Block(a.allocate(size, 64), a);
            });
        }

        void free() {
            if (arena != null) {
                arena.close();
            } else {
                MappedFile.unmapPages(segment);
            }
        }
    }
}
