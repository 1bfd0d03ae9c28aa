package io.sdj.image;

import io.sdj.InvalidParameterException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * PNG files with generation metadata: the image is encoded with ImageIO and a {@code tEXt} chunk (keyword
 * {@value #PARAMETERS}) is inserted right after {@code IHDR}, where sd-cli puts it. Like sd-cli, the text is stored
 * as UTF-8 bytes (plain ASCII text is also valid Latin-1, the tEXt encoding); on reading, text that is valid UTF-8 is
 * decoded as UTF-8, anything else as Latin-1. Reading also understands {@code zTXt} and {@code iTXt} chunks.
 */
public final class PngInfo {

    /** The keyword sd-webui and sd.cpp use for the infotext. */
    public static final String PARAMETERS = "parameters";

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final int MAX_CHUNK = 64 << 20;

    private PngInfo() {
    }

    /** Encodes an image as PNG with a {@value #PARAMETERS} text chunk. */
    public static byte[] encode(BufferedImage image, String parameters) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) {
                throw new ImageFormatException("ImageIO has no PNG writer for image type " + image.getType());
            }
        } catch (IOException e) {
            throw new ImageFormatException("cannot encode PNG: " + e.getMessage(), e);
        }
        return withTextChunk(out.toByteArray(), PARAMETERS, parameters);
    }

    /** Writes an image as PNG with a {@value #PARAMETERS} text chunk. */
    public static void write(BufferedImage image, String parameters, Path file) {
        byte[] png = encode(image, parameters);
        try {
            Files.write(file, png);
        } catch (IOException e) {
            throw new ImageFormatException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * Inserts a {@code tEXt} chunk right after {@code IHDR}.
     *
     * @throws InvalidParameterException if the keyword is not 1-79 printable Latin-1 characters or the text contains NUL
     * @throws ImageFormatException      if the bytes are not a PNG starting with IHDR
     */
    public static byte[] withTextChunk(byte[] png, String keyword, String text) {
        checkKeyword(keyword);
        if (text.indexOf('\0') >= 0) {
            throw new InvalidParameterException("text", "a PNG tEXt chunk cannot contain NUL characters");
        }
        checkSignature(png, "<png bytes>");
        int ihdrLen = readInt(png, 8);
        if (!"IHDR".equals(new String(png, 12, 4, StandardCharsets.ISO_8859_1)) || ihdrLen != 13) {
            throw new ImageFormatException("PNG does not start with a 13-byte IHDR chunk");
        }
        int insertAt = 8 + 12 + ihdrLen;
        byte[] key = keyword.getBytes(StandardCharsets.ISO_8859_1);
        byte[] value = text.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[key.length + 1 + value.length];
        System.arraycopy(key, 0, data, 0, key.length);
        System.arraycopy(value, 0, data, key.length + 1, value.length);
        byte[] chunk = chunk("tEXt", data);
        byte[] out = new byte[png.length + chunk.length];
        System.arraycopy(png, 0, out, 0, insertAt);
        System.arraycopy(chunk, 0, out, insertAt, chunk.length);
        System.arraycopy(png, insertAt, out, insertAt + chunk.length, png.length - insertAt);
        return out;
    }

    /** Reads every text chunk (tEXt, zTXt, iTXt) of a PNG file in file order; later duplicates win. */
    public static Map<String, String> readTextChunks(Path file) {
        try {
            return readTextChunks(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new ImageFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Reads every text chunk of PNG bytes. */
    public static Map<String, String> readTextChunks(byte[] png) {
        return readTextChunks(png, "<png bytes>");
    }

    /** The {@value #PARAMETERS} text of a PNG file, if it has one. */
    public static Optional<String> readParameters(Path file) {
        return Optional.ofNullable(readTextChunks(file).get(PARAMETERS));
    }

    /** The {@value #PARAMETERS} text of PNG bytes, if present. */
    public static Optional<String> readParameters(byte[] png) {
        return Optional.ofNullable(readTextChunks(png).get(PARAMETERS));
    }

    private static Map<String, String> readTextChunks(byte[] png, String source) {
        checkSignature(png, source);
        Map<String, String> out = new LinkedHashMap<>();
        int pos = 8;
        while (true) {
            if (pos + 12 > png.length) {
                throw new ImageFormatException(source + ": truncated PNG: chunk header at byte " + pos + " runs past the end");
            }
            int len = readInt(png, pos);
            String type = new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1);
            if (len < 0 || len > MAX_CHUNK || pos + 12L + len > png.length) {
                throw new ImageFormatException(source + ": truncated PNG: chunk " + type + " at byte " + pos
                        + " declares " + Integer.toUnsignedString(len) + " bytes");
            }
            CRC32 crc = new CRC32();
            crc.update(png, pos + 4, 4 + len);
            int stored = readInt(png, pos + 8 + len);
            if ((int) crc.getValue() != stored) {
                throw new ImageFormatException(source + ": chunk " + type + " at byte " + pos + " has a bad CRC");
            }
            int d = pos + 8;
            switch (type) {
                case "tEXt" -> textChunk(png, d, len, source, out);
                case "zTXt" -> zTextChunk(png, d, len, source, out);
                case "iTXt" -> iTextChunk(png, d, len, source, out);
                default -> {
                }
            }
            pos += 12 + len;
            if (type.equals("IEND")) {
                return out;
            }
        }
    }

    private static void textChunk(byte[] png, int d, int len, String source, Map<String, String> out) {
        int nul = indexOfNul(png, d, d + len, source, "tEXt");
        out.put(latin1(png, d, nul), decodeText(png, nul + 1, d + len));
    }

    private static void zTextChunk(byte[] png, int d, int len, String source, Map<String, String> out) {
        int nul = indexOfNul(png, d, d + len, source, "zTXt");
        if (nul + 1 >= d + len || png[nul + 1] != 0) {
            throw new ImageFormatException(source + ": zTXt chunk has an unknown compression method");
        }
        byte[] raw = inflate(png, nul + 2, d + len - nul - 2, source);
        out.put(latin1(png, d, nul), new String(raw, StandardCharsets.ISO_8859_1));
    }

    private static void iTextChunk(byte[] png, int d, int len, String source, Map<String, String> out) {
        int end = d + len;
        int nul = indexOfNul(png, d, end, source, "iTXt");
        String key = latin1(png, d, nul);
        if (nul + 3 > end) {
            throw new ImageFormatException(source + ": truncated iTXt chunk");
        }
        boolean compressed = png[nul + 1] != 0;
        int lang = indexOfNul(png, nul + 3, end, source, "iTXt");
        int translated = indexOfNul(png, lang + 1, end, source, "iTXt");
        int textStart = translated + 1;
        byte[] raw;
        if (compressed) {
            raw = inflate(png, textStart, end - textStart, source);
        } else {
            raw = java.util.Arrays.copyOfRange(png, textStart, end);
        }
        out.put(key, new String(raw, StandardCharsets.UTF_8));
    }

    private static byte[] inflate(byte[] src, int off, int len, String source) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(src, off, len);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inf.finished()) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new ImageFormatException(source + ": truncated compressed text chunk");
                }
                out.write(buf, 0, n);
                if (out.size() > MAX_CHUNK) {
                    throw new ImageFormatException(source + ": compressed text chunk inflates past " + MAX_CHUNK + " bytes");
                }
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new ImageFormatException(source + ": corrupt compressed text chunk: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }

    private static String decodeText(byte[] b, int from, int to) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
        }
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static int indexOfNul(byte[] b, int from, int to, String source, String type) {
        for (int i = from; i < to; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        throw new ImageFormatException(source + ": " + type + " chunk has no NUL after its keyword");
    }

    private static void checkKeyword(String keyword) {
        if (keyword.isEmpty() || keyword.length() > 79) {
            throw new InvalidParameterException("keyword", "must be 1-79 characters, got " + keyword.length());
        }
        for (int i = 0; i < keyword.length(); i++) {
            char c = keyword.charAt(i);
            if (c < 32 || (c > 126 && c < 161) || c > 255) {
                throw new InvalidParameterException("keyword", "must be printable Latin-1, found U+"
                        + String.format("%04X", (int) c));
            }
        }
    }

    private static void checkSignature(byte[] png, String source) {
        if (png.length < 8 + 12) {
            throw new ImageFormatException(source + ": too short for a PNG (" + png.length + " bytes)");
        }
        for (int i = 0; i < 8; i++) {
            if (png[i] != SIGNATURE[i]) {
                throw new ImageFormatException(source + ": not a PNG (bad signature)");
            }
        }
    }

    private static byte[] chunk(String type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }
}
