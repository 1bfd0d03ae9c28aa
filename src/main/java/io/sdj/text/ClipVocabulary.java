package io.sdj.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CLIP's BPE vocabulary as derived from merges.txt: ids 0..255 are the byte symbols (in byte-alphabet order),
 * 256..511 the same symbols with {@code </w>}, 512.. one id per merge in file order, then {@code <|startoftext|>} and
 * {@code <|endoftext|>}. Also holds the merge ranks and runs the BPE merge loop on one word. CLIP's own file has
 * {@value #MERGE_COUNT} merges; a smaller vocabulary of the same construction (fewer merges) is accepted where a
 * vocab.json states its size.
 */
final class ClipVocabulary {
    static final int MERGE_COUNT = 48_894;
    static final int SIZE = 512 + MERGE_COUNT + 2;
    static final String END_OF_WORD = "</w>";
    static final String START_OF_TEXT = "<|startoftext|>";
    static final String END_OF_TEXT = "<|endoftext|>";

    private final Path source;
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final PairRanks ranks;
    private final int[] leftOfRank;
    private final int[] rightOfRank;
    private final int[] mergedOfRank;
    private final int[] baseIdOfByte = new int[256];
    private final int[] wordEndIdOfByte = new int[256];

    private ClipVocabulary(Path source, List<String[]> merges, int[] mergeLines) {
        this.source = source;
        int size = 512 + merges.size() + 2;
        tokens = new String[size];
        ids = HashMap.newHashMap(size);
        int id = 0;
        for (int i = 0; i < 256; i++) {
            tokens[id++] = String.valueOf(ByteLevelAlphabet.charAtPosition(i));
        }
        for (int i = 0; i < 256; i++) {
            tokens[id++] = ByteLevelAlphabet.charAtPosition(i) + END_OF_WORD;
        }
        for (int i = 0; i < 512; i++) {
            ids.put(tokens[i], i);
        }
        // A merge may only use symbols that exist before it: the byte symbols or the result of an earlier merge.
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            for (String part : m) {
                if (!ids.containsKey(part)) {
                    throw new TokenizerFileException(source, mergeLines[r], "merge '" + m[0] + " " + m[1]
                            + "' uses symbol '" + part + "' that neither the byte alphabet nor an earlier merge defines"
                            + " (not a CLIP merges.txt, or the file is corrupted)");
                }
            }
            tokens[id] = m[0] + m[1];
            ids.put(tokens[id], id); // a later duplicate wins, as in sd.cpp's encoder map
            id++;
        }
        tokens[id] = START_OF_TEXT;
        ids.put(START_OF_TEXT, id++);
        tokens[id] = END_OF_TEXT;
        ids.put(END_OF_TEXT, id);

        ranks = new PairRanks(merges.size());
        leftOfRank = new int[merges.size()];
        rightOfRank = new int[merges.size()];
        mergedOfRank = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            leftOfRank[r] = ids.get(m[0]);
            rightOfRank[r] = ids.get(m[1]);
            mergedOfRank[r] = ids.get(m[0] + m[1]);
            ranks.put(leftOfRank[r], rightOfRank[r], r);
        }
        for (int b = 0; b < 256; b++) {
            char c = ByteLevelAlphabet.charOf(b);
            baseIdOfByte[b] = ids.get(String.valueOf(c));
            wordEndIdOfByte[b] = ids.get(c + END_OF_WORD);
        }
    }

    /**
     * Reads a CLIP merges.txt: an optional first line starting with '#' (the "#version: 0.2" header), then exactly
     * {@value #MERGE_COUNT} lines "left right"; empty lines are allowed only at the end.
     */
    static ClipVocabulary load(Path mergesFile) {
        return load(mergesFile, MERGE_COUNT, "CLIP needs " + MERGE_COUNT);
    }

    /**
     * Reads a merges.txt of {@code expectedMerges} merges (the form of {@link #load(Path)}).
     *
     * @param why what requires that count, for the message of a file with another count
     */
    static ClipVocabulary load(Path mergesFile, int expectedMerges, String why) {
        if (!Files.isRegularFile(mergesFile)) {
            throw new TokenizerFileException(mergesFile, 0, "file not found (expected CLIP merges.txt)");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(mergesFile);
        } catch (IOException e) {
            throw new TokenizerFileException(mergesFile, 0, "cannot read: " + e.getMessage(), e);
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String[]> merges = new ArrayList<>(expectedMerges);
        int[] mergeLines = new int[expectedMerges];
        int lineNo = 0;
        int firstEmptyLine = 0;
        int start = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            lineNo++;
            String line;
            try {
                line = utf8.decode(ByteBuffer.wrap(bytes, start, stop - start)).toString();
            } catch (CharacterCodingException e) {
                throw new TokenizerFileException(mergesFile, lineNo, "not valid UTF-8", e);
            }
            start = end + 1;
            if (lineNo == 1 && line.startsWith("#")) {
                continue;
            }
            if (line.isEmpty()) {
                if (firstEmptyLine == 0) {
                    firstEmptyLine = lineNo;
                }
                continue;
            }
            if (firstEmptyLine != 0) {
                throw new TokenizerFileException(mergesFile, firstEmptyLine,
                        "empty line in the middle of the merges (expected 'left right')");
            }
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new TokenizerFileException(mergesFile, lineNo,
                        "expected two symbols separated by one space, found '" + abbreviate(line) + "'");
            }
            if (merges.size() == expectedMerges) {
                throw new TokenizerFileException(mergesFile, lineNo, "more than " + expectedMerges + " merges; "
                        + (expectedMerges == MERGE_COUNT ? "CLIP's vocabulary has exactly " + MERGE_COUNT : why));
            }
            mergeLines[merges.size()] = lineNo;
            merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
        }
        if (merges.size() != expectedMerges) {
            throw new TokenizerFileException(mergesFile, lineNo, "file ends after " + merges.size()
                    + " merges, " + why + " (truncated or not a CLIP merges.txt)");
        }
        return new ClipVocabulary(mergesFile, merges, mergeLines);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    Path source() {
        return source;
    }

    /** The id of a vocabulary string, or -1. */
    int idOf(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** The vocabulary string of an id (byte-alphabet characters, {@code </w>} marking word ends). */
    String token(int id) {
        return tokens[id];
    }

    int size() {
        return tokens.length;
    }

    /**
     * Byte-pair encodes one word given as raw bytes: the bytes become base symbols (the last one carries
     * {@code </w>}), then the adjacent pair with the lowest merge rank is merged everywhere, left to right, until no
     * adjacent pair has a merge.
     */
    int[] bpe(byte[] text, int off, int len) {
        int[] sym = new int[len];
        for (int i = 0; i < len - 1; i++) {
            sym[i] = baseIdOfByte[text[off + i] & 0xFF];
        }
        sym[len - 1] = wordEndIdOfByte[text[off + len - 1] & 0xFF];
        int n = len;
        while (n > 1) {
            int best = Integer.MAX_VALUE;
            for (int i = 0; i < n - 1; i++) {
                int r = ranks.get(sym[i], sym[i + 1]);
                if (r >= 0 && r < best) {
                    best = r;
                }
            }
            if (best == Integer.MAX_VALUE) {
                break;
            }
            int left = leftOfRank[best];
            int right = rightOfRank[best];
            int merged = mergedOfRank[best];
            int w = 0;
            for (int i = 0; i < n; ) {
                if (i < n - 1 && sym[i] == left && sym[i + 1] == right) {
                    sym[w++] = merged;
                    i += 2;
                } else {
                    sym[w++] = sym[i++];
                }
            }
            n = w;
        }
        return n == len ? sym : Arrays.copyOf(sym, n);
    }

    /**
     * Checks a diffusers/transformers vocab.json (read as {@code other}) against the vocabulary derived from
     * merges.txt: same size and every entry with the derived id.
     */
    void crossCheck(Path vocabJson, Map<String, Integer> other) {
        if (other.size() != tokens.length) {
            throw new TokenizerFileException(vocabJson, 0, "has " + other.size() + " entries but " + source
                    + " gives " + tokens.length + " (files from different tokenizers?)");
        }
        for (Map.Entry<String, Integer> e : other.entrySet()) {
            int derived = idOf(e.getKey());
            if (derived != e.getValue()) {
                throw new TokenizerFileException(vocabJson, 0, "maps '" + e.getKey() + "' to " + e.getValue()
                        + " but " + source + " gives " + (derived < 0 ? "no such token" : "id " + derived)
                        + " (files from different tokenizers?)");
            }
        }
    }

    /**
     * The vocabulary as a vocab.json in the form of openai/clip-vit-large-patch14's file: one line, entries in id
     * order as {@code "token": id} joined by {@code ", "}, non-ASCII characters written as they are (UTF-8), only
     * quotes, backslashes and control characters escaped; what Python's {@code json.dumps(encoder,
     * ensure_ascii=False)} writes. A token that appears twice keeps its first place and its last id, as a Python dict
     * built in id order does.
     */
    String toVocabJson() {
        StringBuilder sb = new StringBuilder(tokens.length * 20).append('{');
        Set<String> written = new HashSet<>();
        for (String token : tokens) {
            if (!written.add(token)) {
                continue;
            }
            if (written.size() > 1) {
                sb.append(", ");
            }
            sb.append('"');
            for (int i = 0; i < token.length(); i++) {
                char c = token.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append("\": ").append(ids.get(token));
        }
        return sb.append('}').toString();
    }
}
