package io.sdj.text;

import io.sdj.SdjException;
import java.nio.file.Path;

/**
 * A tokenizer file (merges.txt, vocab.json) could not be read or does not have the expected content. The message
 * names the file, the line where the problem was found (when there is one) and what was expected there.
 */
public class TokenizerFileException extends SdjException {
    private final Path file;
    private final int line;

    /**
     * @param file    the offending file
     * @param line    1-based line number, or 0 when the problem concerns the whole file
     * @param problem what is wrong and what was expected
     */
    public TokenizerFileException(Path file, int line, String problem) {
        super(describe(file, line, problem));
        this.file = file;
        this.line = line;
    }

    /** Same as {@link #TokenizerFileException(Path, int, String)}, keeping the I/O or decoding error as cause. */
    public TokenizerFileException(Path file, int line, String problem, Throwable cause) {
        super(describe(file, line, problem), cause);
        this.file = file;
        this.line = line;
    }

    private static String describe(Path file, int line, String problem) {
        return (line > 0 ? file + ":" + line : file.toString()) + ": " + problem;
    }

    /** The file that could not be used. */
    public Path file() {
        return file;
    }

    /** The 1-based line of the problem, or 0 when it concerns the file as a whole. */
    public int line() {
        return line;
    }
}
