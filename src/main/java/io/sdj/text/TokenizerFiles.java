package io.sdj.text;

import io.sdj.hub.HubClient;
import io.sdj.hub.HubFileRef;
import io.sdj.hub.HubNotCachedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a CLIP tokenizer's files are: a merges.txt and, optionally, the vocab.json that goes with it.
 * {@link #locate} finds them for a model the way diffusers and sd-cli users expect; {@link #write} writes a
 * vocabulary of CLIP's construction from a list of merges.
 *
 * @param merges    the merges.txt
 * @param vocabJson the vocab.json, or null
 */
public record TokenizerFiles(Path merges, Path vocabJson) {
    /** The merges file's name in a diffusers/transformers tokenizer folder. */
    public static final String MERGES_TXT = "merges.txt";
    /** The vocabulary file's name in a diffusers/transformers tokenizer folder. */
    public static final String VOCAB_JSON = "vocab.json";
    /** The hub repository CLIP's vocabulary is fetched from, as transformers' CLIPTokenizer does for SD 1.x. */
    public static final String CLIP_REPO = "openai/clip-vit-large-patch14";
    /** SHA-256 of CLIP's merges.txt (524 619 bytes; git blob 76e821f1b6f0a9709293c3b6b51ed90980b3166b). */
    public static final String CLIP_MERGES_SHA256 = "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a";
    /**
     * SHA-256 of {@value #CLIP_REPO}'s vocab.json (961 143 bytes): the vocabulary derived from the merges written as
     * {@link ClipVocabulary#toVocabJson()} does, which reproduces this digest from merges.txt.
     */
    public static final String CLIP_VOCAB_SHA256 = "3f0c4f7d2086b61b38487075278ea9ed04edb53a03cbb045b86c27190fa8fb69";

    private static final Logger LOG = LoggerFactory.getLogger(TokenizerFiles.class);

    public TokenizerFiles {
        if (merges == null) {
            throw new IllegalArgumentException("merges must be set");
        }
    }

    /**
     * A path that {@link io.sdj.pipeline.StableDiffusion.Builder#tokenizer(Path)} (and {@code --tokenizer}) accepts
     * for these files: their folder when both sit in one under the standard names, else the merges file.
     */
    public Path path() {
        Path dir = merges.toAbsolutePath().getParent();
        if (vocabJson != null && merges.getFileName().toString().equals(MERGES_TXT)
                && vocabJson.getFileName().toString().equals(VOCAB_JSON)
                && dir != null && dir.equals(vocabJson.toAbsolutePath().getParent())) {
            return dir;
        }
        return merges;
    }

    /**
     * The tokenizer files for a model, in this order:
     * <ol>
     *   <li>a diffusers {@code tokenizer/} folder in the model's folder (the model itself when it is a folder):
     *       {@code tokenizer/merges.txt}, with {@code tokenizer/vocab.json} if present;</li>
     *   <li>{@code merges.txt} in the model's folder (with {@code vocab.json} beside it if present);</li>
     *   <li>CLIP's {@code vocab.json} and {@code merges.txt} from the hub repository {@value #CLIP_REPO}, from the
     *       Hugging Face cache when they are there (no request), else downloaded once into it; both are checked
     *       against {@link #CLIP_VOCAB_SHA256} and {@link #CLIP_MERGES_SHA256}.</li>
     * </ol>
     *
     * @throws TokenizerNotFoundException if the model has no files and the hub's are neither cached nor reachable
     * @throws io.sdj.hub.HubException    if the hub answers with an error or the files do not match their pins
     */
    public static TokenizerFiles locate(Path model, HubClient hub) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        if (dir == null) {
            dir = Path.of(".");
        }
        List<Path> searched = new ArrayList<>();
        for (Path folder : List.of(dir.resolve("tokenizer"), dir)) {
            Path merges = folder.resolve(MERGES_TXT);
            searched.add(merges);
            if (Files.isRegularFile(merges)) {
                Path vocab = folder.resolve(VOCAB_JSON);
                return new TokenizerFiles(merges, Files.isRegularFile(vocab) ? vocab : null);
            }
        }
        LOG.debug("no tokenizer files beside {} (looked for {}); using CLIP's from the hub", model, searched);
        try {
            return fromHub(hub);
        } catch (HubNotCachedException e) {
            throw new TokenizerNotFoundException(model, searched, e);
        }
    }

    /**
     * CLIP's vocab.json and merges.txt from the hub repository {@value #CLIP_REPO}: cached ones without a request,
     * else downloaded into the cache; both checked against their pinned SHA-256.
     *
     * @throws HubNotCachedException      if they are not cached and the hub cannot be asked
     * @throws io.sdj.hub.HubException    for any other hub or checksum failure
     */
    public static TokenizerFiles fromHub(HubClient hub) {
        Path vocab = hub.cachedOrDownload(HubFileRef.of(CLIP_REPO, VOCAB_JSON), CLIP_VOCAB_SHA256);
        Path merges = hub.cachedOrDownload(HubFileRef.of(CLIP_REPO, MERGES_TXT), CLIP_MERGES_SHA256);
        LOG.debug("CLIP tokenizer files from the hub cache: {}, {}", merges, vocab);
        return new TokenizerFiles(merges, vocab);
    }

    /**
     * Writes a tokenizer of CLIP's construction into {@code folder}: {@code merges.txt} ("#version: 0.2", then one
     * "left right" merge per line) and the matching {@code vocab.json}, whose 512 + merges + 2 ids are the byte
     * symbols, the word-end byte symbols, one id per merge and the two special tokens.
     *
     * @param merges "left right" lines; each side must be a byte symbol or the result of an earlier merge
     * @throws TokenizerFileException if a merge is malformed or uses an undefined symbol
     * @throws UncheckedIOException if the files cannot be written
     */
    public static TokenizerFiles write(Path folder, List<String> merges) {
        Path mergesFile = folder.resolve(MERGES_TXT);
        Path vocabFile = folder.resolve(VOCAB_JSON);
        try {
            Files.createDirectories(folder);
            Files.writeString(mergesFile, "#version: 0.2\n" + String.join("\n", merges) + "\n", StandardCharsets.UTF_8);
            ClipVocabulary vocab = ClipVocabulary.load(mergesFile, merges.size(), "the list has " + merges.size());
            Files.writeString(vocabFile, vocab.toVocabJson(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer files in " + folder + ": " + e, e);
        }
        return new TokenizerFiles(mergesFile, vocabFile);
    }
}
