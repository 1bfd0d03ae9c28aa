package io.sdj.text;

/**
 * GPT-2's reversible byte-to-character table used by CLIP's byte-level BPE: printable Latin-1 bytes ('!'..'~',
 * 0xA1..0xAC, 0xAE..0xFF) stand for themselves, the remaining 68 bytes are mapped in byte order to U+0100 onwards.
 * The order in which the table lists bytes is also the order of the first 256 vocabulary ids.
 */
final class ByteLevelAlphabet {
    /** Bytes in vocabulary order: position i of this array is the byte whose base symbol has id i. */
    private static final int[] BYTES_IN_VOCAB_ORDER = new int[256];
    /** Vocabulary position (0..255) of each byte value. */
    private static final int[] POSITION_OF_BYTE = new int[256];
    /** The character that stands for each byte value. */
    private static final char[] CHAR_OF_BYTE = new char[256];
    /** Byte value for each stand-in character below 0x200, or -1. */
    private static final int[] BYTE_OF_CHAR = new int[0x200];

    static {
        java.util.Arrays.fill(BYTE_OF_CHAR, -1);
        boolean[] printable = new boolean[256];
        int next = 0;
        for (int b = 0; b < 256; b++) {
            if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
                printable[b] = true;
                BYTES_IN_VOCAB_ORDER[next++] = b;
                CHAR_OF_BYTE[b] = (char) b;
            }
        }
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable[b]) {
                BYTES_IN_VOCAB_ORDER[next++] = b;
                CHAR_OF_BYTE[b] = (char) (256 + shifted++);
            }
        }
        for (int i = 0; i < 256; i++) {
            int b = BYTES_IN_VOCAB_ORDER[i];
            POSITION_OF_BYTE[b] = i;
            BYTE_OF_CHAR[CHAR_OF_BYTE[b]] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** Position (0..255) of the base symbol for byte value {@code b} (0..255) in the vocabulary. */
    static int position(int b) {
        return POSITION_OF_BYTE[b];
    }

    /** The stand-in character for byte value {@code b}. */
    static char charOf(int b) {
        return CHAR_OF_BYTE[b];
    }

    /** The stand-in character of the base symbol at vocabulary position {@code i} (0..255). */
    static char charAtPosition(int i) {
        return CHAR_OF_BYTE[BYTES_IN_VOCAB_ORDER[i]];
    }

    /** The byte a stand-in character encodes, or -1 if {@code c} is not one. */
    static int byteOf(char c) {
        return c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
    }
}
