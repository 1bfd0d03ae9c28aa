package io.sdj.text;

import io.sdj.InvalidParameterException;
import io.sdj.hub.HubClient;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CLIP's byte-level BPE tokenizer as stable-diffusion.cpp runs it for SD1.x (and, with pad id 0, SD2.x).
 *
 * <p>{@link #encode(String)} cleans white space (runs of ASCII white space become one space, ends trimmed),
 * lower-cases ASCII letters only (no ftfy, no Unicode case folding), splits out the literal special tokens
 * {@code <|startoftext|>} and {@code <|endoftext|>}, then splits words on the UTF-8 bytes like the regex
 * {@code 's|'t|'re|'ve|'m|'ll|'d|[[:alpha:]]+|[[:digit:]]|[^[:space:][:alpha:][:digit:]]+} in the C locale (so
 * non-ASCII bytes are "other" characters), and byte-pair encodes each word with {@code </w>} on its last symbol.
 *
 * <p>{@link #tokenizeWeighted(String, int)} adds sd.cpp's prompt handling: attention weights ({@link PromptParser}),
 * {@code BREAK}, and windows of 77 ids. Instances are immutable apart from a BPE cache and are safe to share between
 * threads.
 */
public final class ClipTokenizer {
    /** {@code <|startoftext|>} in CLIP's vocabulary ({@link #bosId()} for this tokenizer's). */
    public static final int BOS_ID = 49406;
    /** {@code <|endoftext|>} in CLIP's vocabulary; also what BREAK pads with ({@link #eosId()} for this tokenizer's). */
    public static final int EOS_ID = 49407;
    /** Number of ids in the CLIP vocabulary. */
    public static final int VOCAB_SIZE = ClipVocabulary.SIZE;
    /** SD1.x pads windows with {@code <|endoftext|>}. */
    public static final int SD1_PAD_ID = EOS_ID;
    /** SD2.x (OpenCLIP) pads windows with id 0. */
    public static final int SD2_PAD_ID = 0;
    /** Prompt tokens per window; BOS and EOS make it {@link TokenizedPrompt#WINDOW}. */
    public static final int TOKENS_PER_WINDOW = TokenizedPrompt.WINDOW - 2;

    private static final Logger LOG = LoggerFactory.getLogger(ClipTokenizer.class);
    private static final int CACHE_LIMIT = 1 << 16;

    private final ClipVocabulary vocab;
    private final int bosId;
    private final int eosId;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(ClipVocabulary vocab) {
        this.vocab = vocab;
        bosId = vocab.size() - 2;
        eosId = vocab.size() - 1;
        if (vocab.idOf(ClipVocabulary.START_OF_TEXT) != bosId || vocab.idOf(ClipVocabulary.END_OF_TEXT) != eosId) {
            throw new IllegalStateException("the special tokens are not the vocabulary's last two ids");
        }
    }

    /**
     * Builds the tokenizer from a CLIP merges.txt ("#version" line, then 48 894 merges).
     *
     * @throws TokenizerFileException if the file is missing, unreadable, truncated or not a CLIP merges file
     */
    public static ClipTokenizer fromMerges(Path mergesFile) {
        long t0 = System.nanoTime();
        ClipTokenizer tokenizer = new ClipTokenizer(ClipVocabulary.load(mergesFile));
        LOG.debug("CLIP tokenizer loaded from {} ({} ids) in {} ms", mergesFile, VOCAB_SIZE,
                (System.nanoTime() - t0) / 1_000_000);
        return tokenizer;
    }

    /**
     * Builds the tokenizer from a diffusers/transformers {@code tokenizer/} folder: reads {@code merges.txt} and, if
     * {@code vocab.json} is there as well, checks that it assigns every token the id derived from the merges.
     *
     * @throws TokenizerFileException if merges.txt is missing or bad, or vocab.json disagrees with it
     */
    public static ClipTokenizer fromDirectory(Path tokenizerDir) {
        Path vocabJson = tokenizerDir.resolve(TokenizerFiles.VOCAB_JSON);
        return fromFiles(tokenizerDir.resolve(TokenizerFiles.MERGES_TXT),
                Files.isRegularFile(vocabJson) ? vocabJson : null);
    }

    /** {@link #fromFiles(Path, Path)} of a located pair of files. */
    public static ClipTokenizer fromFiles(TokenizerFiles files) {
        return fromFiles(files.merges(), files.vocabJson());
    }

    /**
     * Builds the tokenizer from a merges file and, optionally, the vocab.json that goes with it. Without vocab.json
     * the merges must be CLIP's full {@value ClipVocabulary#MERGE_COUNT}; with it, the merges must be as many as its
     * entries call for (entries - 514: the 512 byte symbols and the two special tokens), so a smaller vocabulary of
     * CLIP's construction works too, and every entry must have the id derived from the merges.
     *
     * @param vocabJson the vocab.json, or null
     * @throws TokenizerFileException if a file is missing or bad, or the two disagree
     */
    public static ClipTokenizer fromFiles(Path mergesFile, Path vocabJson) {
        if (vocabJson == null) {
            return fromMerges(mergesFile);
        }
        Map<String, Integer> entries = VocabJson.read(vocabJson);
        int merges = entries.size() - 514;
        if (merges < 0 || merges > ClipVocabulary.MERGE_COUNT) {
            throw new TokenizerFileException(vocabJson, 0, "has " + entries.size() + " entries; a CLIP vocabulary has "
                    + "514 (256 bytes, 256 word ends, 2 special tokens) plus one per merge, at most " + VOCAB_SIZE);
        }
        ClipTokenizer tokenizer = new ClipTokenizer(ClipVocabulary.load(mergesFile, merges,
                vocabJson + " has " + entries.size() + " entries, which need " + merges));
        tokenizer.vocab.crossCheck(vocabJson, entries);
        LOG.debug("CLIP tokenizer from {} and {} ({} ids)", mergesFile, vocabJson, tokenizer.vocabSize());
        return tokenizer;
    }

    /**
     * {@link #forModel(Path, HubClient)} with the hub settings of the environment ({@code HF_HOME},
     * {@code HF_HUB_CACHE}, {@code HF_HUB_OFFLINE}, {@code HF_ENDPOINT}).
     */
    public static ClipTokenizer forModel(Path model) {
        return forModel(model, HubClient.fromEnvironment());
    }

    /**
     * The tokenizer that belongs to a model: its own files if it has them, else CLIP's from the hub (see
     * {@link TokenizerFiles#locate}).
     *
     * @throws TokenizerNotFoundException if the model has none and the hub files are neither cached nor reachable
     */
    public static ClipTokenizer forModel(Path model, HubClient hub) {
        return fromFiles(TokenizerFiles.locate(model, hub));
    }

    /**
     * The vocabulary as vocab.json text, in the form of openai/clip-vit-large-patch14's file (for CLIP's merges it is
     * that file byte for byte, SHA-256 {@value TokenizerFiles#CLIP_VOCAB_SHA256}).
     */
    public String vocabJson() {
        return vocab.toVocabJson();
    }

    /** Id of {@code <|startoftext|>}: {@link #BOS_ID} for CLIP, the second-to-last id of a smaller vocabulary. */
    public int bosId() {
        return bosId;
    }

    /** Id of {@code <|endoftext|>}: {@link #EOS_ID} for CLIP, the last id of a smaller vocabulary. */
    public int eosId() {
        return eosId;
    }

    /** The merges file this tokenizer was built from. */
    public Path source() {
        return vocab.source();
    }

    /** Number of ids in the vocabulary, {@value #VOCAB_SIZE} for CLIP's. */
    public int vocabSize() {
        return vocab.size();
    }

    /** BPE ids of {@code text}, without BOS/EOS or padding. */
    public int[] encode(String text) {
        return encode(text, null);
    }

    /**
     * BPE ids of {@code text}, without BOS/EOS or padding, replacing {@code customWords} (may be null) by their ids.
     *
     * @throws InvalidParameterException if a name listed by {@code customWords} has no ids
     */
    public int[] encode(String text, CustomWords customWords) {
        String normalized = normalize(text);
        List<String> specials = new ArrayList<>(2);
        specials.add(ClipVocabulary.START_OF_TEXT);
        specials.add(ClipVocabulary.END_OF_TEXT);
        if (customWords != null) {
            specials.addAll(customWords.names());
        }
        IntList out = new IntList(normalized.length() / 3 + 4);
        int pos = 0;
        int n = normalized.length();
        while (pos < n) {
            int next = n;
            String matched = null;
            for (String special : specials) {
                if (special.isEmpty()) {
                    continue;
                }
                int at = normalized.indexOf(special, pos);
                if (at >= 0 && at < next) {
                    next = at;
                    matched = special;
                }
            }
            if (next > pos) {
                encodeWords(normalized.substring(pos, next), customWords, out);
            }
            if (matched == null) {
                break;
            }
            int[] custom = customWords == null ? null : customWords.idsFor(matched);
            if (custom != null) {
                out.addAll(custom);
            } else {
                int id = vocab.idOf(matched);
                if (id < 0 || !(matched.equals(ClipVocabulary.START_OF_TEXT) || matched.equals(ClipVocabulary.END_OF_TEXT))) {
                    throw new InvalidParameterException("prompt", "custom word '" + matched
                            + "' is listed but has no ids (embedding not loaded?)");
                }
                out.add(id);
            }
            pos = next + matched.length();
        }
        int[] ids = out.toArray();
        if (LOG.isTraceEnabled()) {
            LOG.trace("split prompt \"{}\" to tokens {}", text, tokenStrings(ids));
        }
        return ids;
    }

    /** sd.cpp's CLIP normalisation: ASCII white-space runs to one space, trimmed, ASCII letters lower-cased. */
    static String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (CFloat.isCSpace(c)) {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace && !sb.isEmpty()) {
                sb.append(' ');
            }
            pendingSpace = false;
            sb.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return sb.toString();
    }

    /** Splits a normalized, special-token-free piece into CLIP words and appends their BPE ids. */
    private void encodeWords(String piece, CustomWords customWords, IntList out) {
        byte[] b = piece.getBytes(StandardCharsets.UTF_8);
        int n = b.length;
        int i = 0;
        while (i < n) {
            int c = b[i] & 0xFF;
            int end;
            if (c == '\'' && (end = contractionEnd(b, i)) > 0) {
                // 's 't 're 've 'm 'll 'd
            } else if (isAlpha(c)) {
                end = i + 1;
                while (end < n && isAlpha(b[end] & 0xFF)) {
                    end++;
                }
            } else if (isDigit(c)) {
                end = i + 1;
            } else if (isSpace(c)) {
                i++;
                continue;
            } else {
                end = i + 1;
                while (end < n && isOther(b[end] & 0xFF)) {
                    end++;
                }
            }
            if (customWords != null) {
                int[] custom = customWords.idsFor(new String(b, i, end - i, StandardCharsets.UTF_8));
                if (custom != null) {
                    out.addAll(custom);
                    i = end;
                    continue;
                }
            }
            out.addAll(bpe(b, i, end - i));
            i = end;
        }
    }

    private int[] bpe(byte[] b, int off, int len) {
        String key = new String(b, off, len, StandardCharsets.ISO_8859_1);
        int[] ids = cache.get(key);
        if (ids == null) {
            ids = vocab.bpe(b, off, len);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(key, ids);
        }
        return ids;
    }

    /** End of the contraction starting with the apostrophe at {@code i} (case-insensitive), or -1. */
    private static int contractionEnd(byte[] b, int i) {
        int c1 = i + 1 < b.length ? lower(b[i + 1]) : -1;
        int c2 = i + 2 < b.length ? lower(b[i + 2]) : -1;
        if (c1 == 's' || c1 == 't') {
            return i + 2;
        }
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e')) {
            return i + 3;
        }
        if (c1 == 'm') {
            return i + 2;
        }
        if (c1 == 'l' && c2 == 'l') {
            return i + 3;
        }
        if (c1 == 'd') {
            return i + 2;
        }
        return -1;
    }

    private static int lower(byte v) {
        int c = v & 0xFF;
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    private static boolean isAlpha(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isSpace(int c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    private static boolean isOther(int c) {
        return !isAlpha(c) && !isDigit(c) && !isSpace(c);
    }

    /** {@link #tokenizeWeighted(String, int, CustomWords)} with SD1's padding (EOS) and no custom words. */
    public TokenizedPrompt tokenizeWeighted(String prompt) {
        return tokenizeWeighted(prompt, eosId, null);
    }

    /** {@link #tokenizeWeighted(String, int, CustomWords)} without custom words. */
    public TokenizedPrompt tokenizeWeighted(String prompt, int padId) {
        return tokenizeWeighted(prompt, padId, null);
    }

    /**
     * Tokenizes a prompt as sd.cpp's CLIP conditioner does: parses attention weights, encodes every fragment on its
     * own (each token gets its fragment's weight), pads at each {@code BREAK} with {@code <|endoftext|>} up to the
     * next multiple of 75 tokens, then cuts the tokens into consecutive runs of 75 (no attempt to keep words
     * whole) and lays each run out as {@code BOS, run, EOS, padId...} in a 77-id window. An empty prompt gives one
     * window {@code BOS, EOS, padId...}. Weights are in float, as sd.cpp computes them.
     *
     * @param padId       id that fills each window after EOS: {@link #SD1_PAD_ID} or {@link #SD2_PAD_ID} (with
     *                    CLIP's vocabulary; {@link #eosId()} or 0 with a smaller one)
     * @param customWords embedding words to replace, or null
     * @throws InvalidParameterException for an unreadable attention weight or a bad pad id
     */
    public TokenizedPrompt tokenizeWeighted(String prompt, int padId, CustomWords customWords) {
        if (padId < 0 || padId >= vocab.size()) {
            throw new InvalidParameterException("padId", "must be an id of the vocabulary, in [0, " + vocab.size()
                    + "), got " + padId);
        }
        List<PromptFragment> fragments = PromptParser.parse(prompt);
        if (LOG.isDebugEnabled()) {
            LOG.debug("parse '{}' to {}", prompt, fragments);
        }
        IntList tokens = new IntList(64);
        FloatList weights = new FloatList(64);
        for (PromptFragment fragment : fragments) {
            switch (fragment) {
                case PromptFragment.Break b -> {
                    int pad = (TOKENS_PER_WINDOW - tokens.size() % TOKENS_PER_WINDOW) % TOKENS_PER_WINDOW;
                    for (int k = 0; k < pad; k++) {
                        tokens.add(eosId);
                        weights.add(1.0f);
                    }
                }
                case PromptFragment.Text t -> {
                    int[] ids = encode(t.text(), customWords);
                    tokens.addAll(ids);
                    for (int k = 0; k < ids.length; k++) {
                        weights.add(t.weight());
                    }
                }
            }
        }
        int count = tokens.size();
        int windows = Math.max(1, (count + TOKENS_PER_WINDOW - 1) / TOKENS_PER_WINDOW);
        int[] ids = new int[windows * TokenizedPrompt.WINDOW];
        float[] w = new float[ids.length];
        Arrays.fill(ids, padId);
        Arrays.fill(w, 1.0f);
        for (int win = 0; win < windows; win++) {
            int base = win * TokenizedPrompt.WINDOW;
            int from = win * TOKENS_PER_WINDOW;
            int take = Math.min(TOKENS_PER_WINDOW, count - from);
            ids[base] = bosId;
            for (int k = 0; k < take; k++) {
                ids[base + 1 + k] = tokens.get(from + k);
                w[base + 1 + k] = weights.get(from + k);
            }
            ids[base + 1 + take] = eosId;
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("prompt '{}': {} token(s) in {} window(s): {}", prompt, count, windows,
                    tokenStrings(tokens.toArray()));
        }
        return new TokenizedPrompt(ids, w);
    }

    /**
     * The vocabulary string of an id, e.g. {@code "lovely</w>"} (bytes outside printable Latin-1 appear as GPT-2's
     * stand-in characters); ids past the vocabulary (custom embeddings) show as {@code <custom:N>}.
     */
    public String tokenString(int id) {
        if (id < 0) {
            throw new InvalidParameterException("id", "token ids are >= 0, got " + id);
        }
        return id < vocab.size() ? vocab.token(id) : "<custom:" + id + ">";
    }

    /** {@link #tokenString(int)} of each id, for logging. */
    public List<String> tokenStrings(int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(tokenString(id));
        }
        return out;
    }

    /**
     * Text of BPE ids: BOS and EOS are skipped, word ends become spaces, bytes are turned back into UTF-8 text,
     * " ," becomes "," and the ends are trimmed. Lower case and collapsed white space stay as encoding left them.
     *
     * @throws InvalidParameterException for an id outside the vocabulary
     */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id == bosId || id == eosId) {
                continue;
            }
            if (id < 0 || id >= vocab.size()) {
                throw new InvalidParameterException("ids", "id " + id + " is outside the CLIP vocabulary [0, "
                        + vocab.size() + ")");
            }
            String token = vocab.token(id);
            boolean wordEnd = token.endsWith(ClipVocabulary.END_OF_WORD);
            int len = wordEnd ? token.length() - ClipVocabulary.END_OF_WORD.length() : token.length();
            for (int k = 0; k < len; k++) {
                bytes.write(ByteLevelAlphabet.byteOf(token.charAt(k)));
            }
            if (wordEnd) {
                bytes.write(' ');
            }
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(" ,", ",").strip();
    }

    /** Growable int array. */
    private static final class IntList {
        private int[] a;
        private int size;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        void addAll(int[] v) {
            if (size + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, size + v.length));
            }
            System.arraycopy(v, 0, a, size, v.length);
            size += v.length;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }

    /** Growable float array. */
    private static final class FloatList {
        private float[] a;
        private int size;

        FloatList(int capacity) {
            a = new float[Math.max(4, capacity)];
        }

        void add(float v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        float get(int i) {
            return a[i];
        }
    }
}
