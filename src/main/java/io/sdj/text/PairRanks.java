package io.sdj.text;

import java.util.Arrays;

/** Open-addressing map from a pair of symbol ids to the rank of the merge that joins them; absent pairs give -1. */
final class PairRanks {
    private final long[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    PairRanks(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedPairs * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(values, -1);
        mask = capacity - 1;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** Sets the rank of a pair, replacing an earlier rank of the same pair (as a later line of merges.txt would). */
    void put(int left, int right, int rank) {
        if (rank < 0) {
            throw new IllegalArgumentException("rank must be >= 0: " + rank);
        }
        if ((size + 1) * 2 > keys.length) {
            throw new IllegalStateException("PairRanks is full: sized for " + keys.length / 2 + " pairs");
        }
        long k = key(left, right);
        int i = slot(k);
        while (values[i] >= 0 && keys[i] != k) {
            i = (i + 1) & mask;
        }
        if (values[i] < 0) {
            size++;
        }
        keys[i] = k;
        values[i] = rank;
    }

    /** The rank of the merge joining {@code left} and {@code right}, or -1 if no merge joins them. */
    int get(int left, int right) {
        long k = key(left, right);
        int i = slot(k);
        while (true) {
            int v = values[i];
            if (v < 0) {
                return -1;
            }
            if (keys[i] == k) {
                return v;
            }
            i = (i + 1) & mask;
        }
    }

    int size() {
        return size;
    }
}
