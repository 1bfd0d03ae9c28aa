package io.sdj.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A bounded, buffered little-endian reader over a byte range of a file, for parsing binary headers (GGUF, PyTorch
 * pickles) with positional reads. Every read checks the range first: reading past its end is a
 * {@link ModelFormatException} that names the file, the tensor being read (see {@link #tensor(String)}) and what
 * was being read, never an unchecked exception or a partial value. Not thread-safe.
 */
public final class ChannelCursor {
    private static final int BUFFER = 64 * 1024;

    /** Positional reads from the underlying bytes (a FileChannel's read(ByteBuffer, long)). */
    @FunctionalInterface
    private interface Source {
        int read(ByteBuffer dst, long position) throws IOException;
    }

    private final Path path;
    private final Source channel;
    private final long end;
    private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    /** File position of buf's first byte. */
    private long bufStart;
    private String tensor;

    /**
     * @param start first byte of the range
     * @param end   one past the last byte of the range (at most the file size)
     */
    public ChannelCursor(Path path, FileChannel channel, long start, long end) {
        this(path, channel::read, start, end);
    }

    private ChannelCursor(Path path, Source channel, long start, long end) {
        this.path = path;
        this.channel = channel;
        this.end = end;
        this.bufStart = start;
        buf.limit(0);
    }

    /** A cursor over bytes in memory; {@code label} names them in messages. */
    public static ChannelCursor ofBytes(Path label, byte[] data) {
        Source src = (dst, position) -> {
            if (position >= data.length) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), data.length - position);
            dst.put(data, (int) position, n);
            return n;
        };
        return new ChannelCursor(label, src, 0, data.length);
    }

    /** Names the tensor that following errors concern (null for none). */
    public ChannelCursor tensor(String name) {
        this.tensor = name;
        return this;
    }

    /** The file, for messages. */
    public Path path() {
        return path;
    }

    /** The tensor named by {@link #tensor(String)}, or null. */
    public String tensor() {
        return tensor;
    }

    /** File offset of the next byte. */
    public long position() {
        return bufStart + buf.position();
    }

    /** Bytes left in the range. */
    public long remaining() {
        return end - position();
    }

    /** Moves to an absolute file offset inside the range (or to its end). */
    public void seek(long position) {
        if (position < 0 || position > end) {
            throw error("offset " + position + " is outside the file (" + end + " bytes)");
        }
        long rel = position - bufStart;
        if (rel >= 0 && rel <= buf.limit()) {
            buf.position((int) rel);
        } else {
            bufStart = position;
            buf.limit(0);
        }
    }

    /** Skips {@code n} bytes. */
    public void skip(long n, String what) {
        need(n, what);
        seek(position() + n);
    }

    public int u8(String what) {
        ensure(1, what);
        return buf.get() & 0xff;
    }

    public int u16(String what) {
        ensure(2, what);
        return buf.getShort() & 0xffff;
    }

    public int i32(String what) {
        ensure(4, what);
        return buf.getInt();
    }

    /** An unsigned 32-bit value. */
    public long u32(String what) {
        return i32(what) & 0xffffffffL;
    }

    /** A 64-bit value (the caller decides whether a negative value, i.e. one ≥ 2^63 unsigned, is acceptable). */
    public long i64(String what) {
        ensure(8, what);
        return buf.getLong();
    }

    public float f32(String what) {
        ensure(4, what);
        return buf.getFloat();
    }

    public double f64(String what) {
        ensure(8, what);
        return buf.getDouble();
    }

    /** {@code n} bytes; {@code n} must fit the range (checked before anything is allocated). */
    public byte[] bytes(long n, String what) {
        need(n, what);
        if (n > Integer.MAX_VALUE - 8) {
            throw error(what + " of " + n + " bytes is too large");
        }
        byte[] out = new byte[(int) n];
        int done = 0;
        while (done < out.length) {
            if (!buf.hasRemaining()) {
                fill(what);
            }
            int k = Math.min(buf.remaining(), out.length - done);
            buf.get(out, done, k);
            done += k;
        }
        return out;
    }

    /** Fails unless {@code n} more bytes are in the range. */
    public void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw error("truncated: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : n)
                    + " bytes at offset " + position() + " but only " + remaining() + " remain");
        }
    }

    /** A format error at the current position, naming the file and the current tensor. */
    public ModelFormatException error(String detail) {
        return new ModelFormatException(path, tensor, detail);
    }

    private void ensure(int n, String what) {
        if (buf.remaining() >= n) {
            return;
        }
        need(n, what);
        fill(what);
        if (buf.remaining() < n) {
            throw error("truncated: the file ends inside " + what);
        }
    }

    /** Moves the unread bytes to the front and reads more from the channel. */
    private void fill(String what) {
        long pos = position();
        buf.compact();
        bufStart = pos;
        long want = Math.min(buf.remaining(), end - (pos + buf.position()));
        int target = buf.position() + (int) Math.max(0, want);
        buf.limit(target);
        try {
            while (buf.position() < target) {
                int r = channel.read(buf, pos + buf.position());
                if (r < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(path, tensor, "cannot read " + what + ": " + e.getMessage(), e);
        }
        buf.flip();
    }
}
