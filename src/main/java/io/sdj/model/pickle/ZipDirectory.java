package io.sdj.model.pickle;

import io.sdj.model.ChannelCursor;
import io.sdj.model.ModelFormatException;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The entries of a zip archive as PyTorch writes them (uncompressed, zip64 for large files), read from the central
 * directory with every offset and size checked against the file: each entry's data is a byte range of the file, so
 * tensors can be read with positional reads. Compressed or encrypted entries are refused.
 */
public final class ZipDirectory {
    /** Most entries accepted. */
    public static final int MAX_ENTRIES = 1 << 20;

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;

    /** One stored entry: its name and the file range of its data. */
    public record Entry(String name, long dataOffset, long size) {
    }

    private final Map<String, Entry> entries;

    private ZipDirectory(Map<String, Entry> entries) {
        this.entries = entries;
    }

    /** Entries by name, in directory order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Reads the directory of the zip file open on {@code ch}.
     *
     * @throws ModelFormatException if it is not a well-formed zip of stored entries
     */
    public static ZipDirectory read(Path path, FileChannel ch, long size) {
        ChannelCursor in = new ChannelCursor(path, ch, 0, size);
        long eocd = findEocd(in, size);
        in.seek(eocd + 4);
        int disk = in.u16("the zip end record");
        int cdDisk = in.u16("the zip end record");
        long count = in.u16("the zip end record");
        in.u16("the zip end record");
        long cdSize = in.u32("the zip end record");
        long cdOffset = in.u32("the zip end record");
        if (disk != 0 || cdDisk != 0) {
            throw new ModelFormatException(path, "multi-part zip archives are not supported");
        }
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            if (eocd < 20) {
                throw new ModelFormatException(path, "zip64 end record locator missing");
            }
            in.seek(eocd - 20);
            if (in.i32("the zip64 locator") != ZIP64_LOCATOR) {
                throw new ModelFormatException(path, "zip64 end record locator missing");
            }
            in.u32("the zip64 locator");
            long z64 = in.i64("the zip64 locator");
            if (z64 < 0 || z64 > size - 56) {
                throw new ModelFormatException(path, "zip64 end record offset " + z64 + " is outside the file");
            }
            in.seek(z64);
            if (in.i32("the zip64 end record") != ZIP64_EOCD) {
                throw new ModelFormatException(path, "bad zip64 end record signature");
            }
            in.skip(8 + 2 + 2 + 4 + 4 + 8, "the zip64 end record");
            count = in.i64("the zip64 end record");
            cdSize = in.i64("the zip64 end record");
            cdOffset = in.i64("the zip64 end record");
        }
        if (count < 0 || count > MAX_ENTRIES) {
            throw new ModelFormatException(path, "zip entry count " + Long.toUnsignedString(count)
                    + " is not plausible (at most " + MAX_ENTRIES + ")");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset || count * 46 > cdSize) {
            throw new ModelFormatException(path, "zip central directory [" + cdOffset + ", +" + cdSize
                    + "] with " + count + " entries does not fit the file (" + size + " bytes; truncated?)");
        }
        ChannelCursor cd = new ChannelCursor(path, ch, cdOffset, cdOffset + cdSize);
        Map<String, Entry> out = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            if (cd.i32("a zip directory entry") != CENTRAL) {
                throw new ModelFormatException(path, "zip directory entry " + i + " has a bad signature");
            }
            cd.skip(4, "a zip directory entry");
            int flags = cd.u16("a zip directory entry");
            int method = cd.u16("a zip directory entry");
            cd.skip(8, "a zip directory entry");
            long csize = cd.u32("a zip directory entry");
            long usize = cd.u32("a zip directory entry");
            int nameLen = cd.u16("a zip directory entry");
            int extraLen = cd.u16("a zip directory entry");
            int commentLen = cd.u16("a zip directory entry");
            cd.skip(8, "a zip directory entry");
            long local = cd.u32("a zip directory entry");
            String name = new String(cd.bytes(nameLen, "a zip entry name"), StandardCharsets.UTF_8);
            long extraEnd = cd.position() + extraLen;
            while (cd.position() + 4 <= extraEnd) {
                int id = cd.u16("a zip extra field");
                int len = cd.u16("a zip extra field");
                long fieldEnd = cd.position() + len;
                if (fieldEnd > extraEnd) {
                    throw new ModelFormatException(path, "zip entry '" + name + "' has a malformed extra field");
                }
                if (id == 1) {
                    if (usize == 0xffffffffL && cd.position() + 8 <= fieldEnd) {
                        usize = cd.i64("a zip64 size");
                    }
                    if (csize == 0xffffffffL && cd.position() + 8 <= fieldEnd) {
                        csize = cd.i64("a zip64 size");
                    }
                    if (local == 0xffffffffL && cd.position() + 8 <= fieldEnd) {
                        local = cd.i64("a zip64 offset");
                    }
                }
                cd.seek(fieldEnd);
            }
            cd.seek(extraEnd);
            cd.skip(commentLen, "a zip entry comment");
            if ((flags & 1) != 0) {
                throw new ModelFormatException(path, "zip entry '" + name + "' is encrypted");
            }
            if (method != 0) {
                throw new ModelFormatException(path, "zip entry '" + name + "' is compressed (method " + method
                        + "); PyTorch stores its entries uncompressed");
            }
            if (csize != usize || usize < 0) {
                throw new ModelFormatException(path, "zip entry '" + name + "' has sizes " + csize + " and " + usize);
            }
            if (local < 0 || local > size - 30) {
                throw new ModelFormatException(path, "zip entry '" + name + "' starts outside the file");
            }
            in.seek(local);
            if (in.i32("a zip local header") != LOCAL) {
                throw new ModelFormatException(path, "zip entry '" + name + "' has a bad local header");
            }
            in.skip(22, "a zip local header");
            int localName = in.u16("a zip local header");
            int localExtra = in.u16("a zip local header");
            long data = local + 30 + localName + localExtra;
            if (data > size || usize > size - data) {
                throw new ModelFormatException(path, "zip entry '" + name + "' data [" + data + ", +" + usize
                        + "] runs past the end of the file (" + size + " bytes; truncated?)");
            }
            if (out.put(name, new Entry(name, data, usize)) != null) {
                throw new ModelFormatException(path, "duplicate zip entry '" + name + "'");
            }
        }
        return new ZipDirectory(Collections.unmodifiableMap(out));
    }

    private static long findEocd(ChannelCursor in, long size) {
        long min = Math.max(0, size - 22 - 65535);
        in.seek(min);
        byte[] tail = in.bytes(size - min, "the end of the zip file");
        for (int p = tail.length - 22; p >= 0; p--) {
            if (tail[p] == 0x50 && tail[p + 1] == 0x4b && tail[p + 2] == 5 && tail[p + 3] == 6) {
                return min + p;
            }
        }
        throw new ModelFormatException(in.path(), "no zip end-of-directory record (truncated or not a zip file)");
    }
}
