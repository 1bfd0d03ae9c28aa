package io.sdj.model;

import io.sdj.InvalidParameterException;
import io.sdj.SdjException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@code .safetensors} file in memory and writes it: tensors in the order added, contiguous data, the JSON
 * header padded with spaces to a multiple of 8 bytes. Meant for small files (test models, extracted tensors); every
 * tensor's bytes are held until {@link #write(Path)}.
 */
public final class SafetensorsWriter {

    private record Entry(String name, DType dtype, long[] shape, byte[] data) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    /** Adds a {@code __metadata__} string. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor from its raw little-endian bytes.
     *
     * @throws InvalidParameterException if the name is taken or the byte count does not match shape × dtype
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] littleEndianData) {
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new InvalidParameterException("name", "'" + name + "' is reserved for the metadata map");
        }
        if (!dtype.isSafetensorsType()) {
            throw new InvalidParameterException("dtype", "tensor '" + name + "': " + dtype
                    + " is not a safetensors dtype (supported: " + DType.supportedNames() + ")");
        }
        if (entries.containsKey(name)) {
            throw new InvalidParameterException("name", "tensor '" + name + "' was already added");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new InvalidParameterException("shape", "tensor '" + name + "' has a negative dimension");
            }
            n *= d;
        }
        if (n * dtype.byteSize() != littleEndianData.length) {
            throw new InvalidParameterException("data", "tensor '" + name + "' " + TensorInfo.formatShape(shape) + " "
                    + dtype + " needs " + n * dtype.byteSize() + " bytes, got " + littleEndianData.length);
        }
        entries.put(name, new Entry(name, dtype, shape.clone(), littleEndianData));
        return this;
    }

    /** Adds a floating-point tensor stored as F32, F16 (round to nearest even) or BF16 (round to nearest even). */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> {
                for (float v : values) {
                    b.putFloat(v);
                }
            }
            case F16 -> {
                for (float v : values) {
                    b.putShort(Float.floatToFloat16(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    b.putShort(toBf16(v));
                }
            }
            default -> throw new InvalidParameterException("dtype", "addFloats supports F32, F16 and BF16, not " + dtype);
        }
        return add(name, dtype, shape, b.array());
    }

    /** Adds an I64 tensor. */
    public SafetensorsWriter addLongs(String name, long[] shape, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return add(name, DType.I64, shape, b.array());
    }

    /** Adds an I32 tensor. */
    public SafetensorsWriter addInts(String name, long[] shape, int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return add(name, DType.I32, shape, b.array());
    }

    /** Number of tensors added so far. */
    public int size() {
        return entries.size();
    }

    /** bfloat16 bits of {@code v}, rounding to nearest even; NaN stays NaN. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** The JSON header (without padding) that {@link #write(Path)} will write. */
    public String headerJson() {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        if (!metadata.isEmpty()) {
            sb.append(quote(SafetensorsFile.METADATA_KEY)).append(":{");
            boolean firstM = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (!firstM) {
                    sb.append(',');
                }
                firstM = false;
                sb.append(quote(m.getKey())).append(':').append(quote(m.getValue()));
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (Entry e : entries.values()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(quote(e.name)).append(":{\"dtype\":\"").append(e.dtype.name()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(e.shape[i]);
            }
            long end = offset + e.data.length;
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        return sb.append('}').toString();
    }

    /** Writes the file, replacing any existing one. */
    public void write(Path file) {
        byte[] header = headerJson().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(header);
            for (int i = header.length; i < padded; i++) {
                out.write(' ');
            }
            List<Entry> list = new ArrayList<>(entries.values());
            for (Entry e : list) {
                out.write(e.data);
            }
        } catch (IOException e) {
            throw new SdjException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    static String quote(String s) {
        return JsonValue.quote(s);
    }
}
