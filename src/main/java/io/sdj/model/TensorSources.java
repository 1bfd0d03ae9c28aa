package io.sdj.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens a tensor file by its content, not its name: GGUF by its magic, a PyTorch zip checkpoint by the zip magic, a
 * legacy PyTorch pickle by the pickle protocol opcode, safetensors by its 8-byte header length followed by '{'.
 */
public final class TensorSources {
    /** The file forms {@link #open(Path)} recognizes. */
    public enum Form {
        SAFETENSORS, GGUF, PYTORCH_ZIP, PYTORCH_LEGACY
    }

    private TensorSources() {
    }

    /**
     * The form of a file, judged from its first bytes.
     *
     * @throws ModelFormatException if the file is missing, a directory, or none of the forms
     */
    public static Form detect(Path path) {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, expected a model file");
        }
        byte[] head = new byte[9];
        int n = 0;
        try (InputStream in = Files.newInputStream(path)) {
            int r;
            while (n < head.length && (r = in.read(head, n, head.length - n)) > 0) {
                n += r;
            }
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(path, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        }
        if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            return Form.GGUF;
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Form.PYTORCH_ZIP;
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return Form.PYTORCH_LEGACY;
        }
        if (n == 9 && head[8] == '{') {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len > 0 && len <= SafetensorsFile.MAX_HEADER_BYTES) {
                return Form.SAFETENSORS;
            }
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(n, 8); i++) {
            hex.append(String.format("%02x", head[i] & 0xff));
        }
        throw new ModelFormatException(path, "not a model file sdj reads (safetensors, GGUF, or a PyTorch .ckpt/.pt"
                + " checkpoint); it starts with " + (n == 0 ? "nothing (empty file)" : "bytes " + hex));
    }

    /**
     * Opens a tensor file of any form sdj reads.
     *
     * @throws ModelFormatException if the file is missing, of no known form, or invalid in its form
     */
    public static TensorSource open(Path path) {
        return switch (detect(path)) {
            case SAFETENSORS -> SafetensorsFile.open(path);
            case GGUF -> GgufFile.open(path);
            case PYTORCH_ZIP, PYTORCH_LEGACY -> CkptFile.open(path);
        };
    }
}
