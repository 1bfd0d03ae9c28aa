package io.sdj.cli;

import io.sdj.model.JsonParser;
import io.sdj.model.JsonValue;
import io.sdj.model.TinySd15Writer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * Test support for {@link FuzzTest}: case {@code i} of a seeded run is a pure function of (seed, i). Each case is a
 * command line for {@link Main#run}, often with a mutated model file or init image written into the work folder
 * first. The mutations: the safetensors header as text (digits, dtypes, bytes, the length prefix, truncation), the
 * header as structure (a tensor's shape, dtype, name or presence, with the data resized to match or not), the data
 * (NaN, infinities, random bytes), whole tiny models of odd shapes, the PNG init image (IHDR sizes with a valid CRC,
 * flipped bytes, truncation, other formats) and the CLI arguments.
 */
public final class FuzzCases {
    /** The kinds of mutation, in the order {@link #kindOf} draws them. */
    public enum Kind { HEADER_TEXT, HEADER_STRUCTURE, DATA, MODEL_SHAPE, INIT_IMAGE, ARGUMENTS }

    /** One case: what was mutated and the command line. */
    public record Case(int index, Kind kind, String what, String[] args) {
    }

    private final Path work;
    private final Path merges;
    private final byte[] basePng;
    private final List<Base> bases = new ArrayList<>();

    /** A valid tiny model the file mutations start from: its bytes, where its data starts, and its header parsed. */
    private record Base(String family, byte[] bytes, long dataStart, List<Entry> entries, Map<String, String> metadata) {
    }

    /** One tensor of the base model: header fields and its bytes. */
    private record Entry(String name, String dtype, long[] shape, byte[] data) {
    }

    /**
     * Opens a work folder holding base.safetensors (the CLI test's tiny SD 1.x model), base-sd2.safetensors and
     * base-sdxl.safetensors (tiny SD 2.x and SDXL models with the same VAE), and base.png (32×32).
     */
    public FuzzCases(Path work, Path merges) {
        this.work = work;
        this.merges = merges;
        try {
            Path model = CliRun.tinyModel(work);
            Files.move(model, work.resolve("base.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            bases.add(base("SD1", work.resolve("base.safetensors")));
            bases.add(base("SD2", TinySd15Writer.sd2().vaeChMult(1, 1, 1, 1).write(work.resolve("base-sd2.safetensors"))));
            bases.add(base("SDXL", TinySd15Writer.sdxl().vaeChMult(1, 1, 1, 1)
                    .write(work.resolve("base-sdxl.safetensors"))));
            BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    img.setRGB(x, y, (x * 8) << 16 | (y * 8) << 8 | ((x + y) * 4));
                }
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            basePng = png.toByteArray();
            Files.write(work.resolve("base.png"), basePng);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Base base(String family, Path file) throws IOException {
        byte[] baseModel = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(baseModel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long dataStart = 8 + headerLength;
        String header = new String(baseModel, 8, (int) headerLength, StandardCharsets.UTF_8);
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonValue.JsonObject root = (JsonValue.JsonObject) JsonParser.parse(header);
        root.members().forEach((name, v) -> {
            JsonValue.JsonObject o = (JsonValue.JsonObject) v;
            if (name.equals("__metadata__")) {
                o.members().forEach((k, s) -> metadata.put(k, ((JsonValue.JsonString) s).value()));
                return;
            }
            String dtype = ((JsonValue.JsonString) o.get("dtype").orElseThrow()).value();
            List<JsonValue> shape = ((JsonValue.JsonArray) o.get("shape").orElseThrow()).elements();
            List<JsonValue> off = ((JsonValue.JsonArray) o.get("data_offsets").orElseThrow()).elements();
            long[] s = shape.stream().mapToLong(x -> ((JsonValue.JsonNumber) x).asLong().orElseThrow()).toArray();
            long begin = ((JsonValue.JsonNumber) off.get(0)).asLong().orElseThrow();
            long end = ((JsonValue.JsonNumber) off.get(1)).asLong().orElseThrow();
            byte[] data = java.util.Arrays.copyOfRange(baseModel, (int) (dataStart + begin), (int) (dataStart + end));
            entries.add(new Entry(name, dtype, s, data));
        });
        return new Base(family, baseModel, dataStart, entries, metadata);
    }

    /** SD 1.x half of the time, SD 2.x and SDXL a quarter each. */
    private Base pickBase(SplittableRandom r) {
        int x = r.nextInt(4);
        return bases.get(x < 2 ? 0 : x - 1);
    }

    Path work() {
        return work;
    }

    /** The arguments of a run that works on the base files: 16×16, one step, one CPU thread. */
    List<String> baseArgs(String model) {
        return new ArrayList<>(List.of("-m", model, "-p", "a cat", "--tokenizer", merges.toString(), "--steps", "1",
                "-W", "16", "-H", "16", "--backend", "cpu", "-t", "1", "-o", work.resolve("out.png").toString()));
    }

    private static final Kind[] KINDS = Kind.values();
    /** Relative frequency of each kind (fast-failing kinds more often than those that generate). */
    private static final int[] WEIGHTS = {28, 22, 3, 5, 17, 25};

    public static Kind kindOf(SplittableRandom r) {
        int total = 0;
        for (int w : WEIGHTS) {
            total += w;
        }
        int x = r.nextInt(total);
        for (int i = 0; i < KINDS.length; i++) {
            x -= WEIGHTS[i];
            if (x < 0) {
                return KINDS[i];
            }
        }
        throw new AssertionError();
    }

    /** Case {@code index} of the run with {@code seed}: writes its files and returns its command line. */
    public Case make(long seed, int index) {
        SplittableRandom r = new SplittableRandom(seed * 0x9e3779b97f4a7c15L + index);
        Kind kind = kindOf(r);
        try {
            return switch (kind) {
                case HEADER_TEXT -> headerText(index, r);
                case HEADER_STRUCTURE -> headerStructure(index, r);
                case DATA -> data(index, r);
                case MODEL_SHAPE -> modelShape(index, r);
                case INIT_IMAGE -> initImage(index, r);
                case ARGUMENTS -> arguments(index, r);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path caseModel() {
        return work.resolve("case.safetensors");
    }

    private Case run(int index, Kind kind, String what, List<String> args) {
        return new Case(index, kind, what, args.toArray(String[]::new));
    }

    // --- the header as text ------------------------------------------------------------------------------------

    private static final String[] NUMBERS = {"0", "1", "-1", "2", "3", "7", "31", "33", "77", "4096", "65535",
            "2147483647", "2147483648", "-2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "1e3", "1.5", "-0", "00", "99999999999999999999999"};
    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL",
            "F8_E4M3", "F8_E5M2", "Q4_0", "", "f16", "F16 "};

    private Case headerText(int index, SplittableRandom r) throws IOException {
        Base base = pickBase(r);
        byte[] baseModel = base.bytes();
        long dataStart = base.dataStart();
        int headerLength = (int) (dataStart - 8);
        String header = new String(baseModel, 8, headerLength, StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(header);
        String what;
        int op = r.nextInt(9);
        switch (op) {
            case 0 -> { // one number replaced
                List<int[]> spans = spans(header, "[0-9]+");
                int[] s = spans.get(r.nextInt(spans.size()));
                String n = NUMBERS[r.nextInt(NUMBERS.length)];
                h.replace(s[0], s[1], n);
                what = "number at " + s[0] + " -> " + n;
            }
            case 1 -> { // one dtype replaced
                List<int[]> spans = spans(header, "\"dtype\":\"[A-Z0-9_]+\"");
                int[] s = spans.get(r.nextInt(spans.size()));
                String d = DTYPES[r.nextInt(DTYPES.length)];
                h.replace(s[0], s[1], "\"dtype\":\"" + d + "\"");
                what = "dtype at " + s[0] + " -> " + d;
            }
            case 2 -> { // bytes flipped
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int at = r.nextInt(h.length());
                    h.setCharAt(at, (char) (32 + r.nextInt(95)));
                }
                what = n + " header chars replaced";
            }
            case 3 -> { // a range deleted
                int a = r.nextInt(h.length());
                int b = Math.min(h.length(), a + 1 + r.nextInt(64));
                h.delete(a, b);
                what = "header chars " + a + ".." + b + " deleted";
            }
            case 4 -> { // nesting or junk inserted
                int at = r.nextInt(h.length());
                String[] junk = {"[", "{", "]", "}", ",", "\"", "\\", "[[[[[[[[[[[[[[[[", "{\"a\":", "null", "true",
                        "\"x\":{}", "\u00ff", "\ud83d\ude00", "[".repeat(1000)};
                String j = junk[r.nextInt(junk.length)];
                h.insert(at, j);
                what = "inserted " + (j.length() > 20 ? j.length() + " chars" : j) + " at " + at;
            }
            case 5 -> { // a shape array emptied or extended
                List<int[]> spans = spans(header, "\"shape\":\\[[^\\]]*\\]");
                int[] s = spans.get(r.nextInt(spans.size()));
                String[] shapes = {"[]", "[0]", "[1,1,1,1,1]", "[1,1,1,1,1,1,1,1,1]", "[-1,4]", "[\"4\"]", "[4.5]",
                        "[2147483648,2]", "[1,9223372036854775807]", "null", "{}"};
                String sh = shapes[r.nextInt(shapes.length)];
                h.replace(s[0], s[1], "\"shape\":" + sh);
                what = "shape at " + s[0] + " -> " + sh;
            }
            case 6 -> { // data offsets swapped or pointed elsewhere
                List<int[]> spans = spans(header, "\"data_offsets\":\\[[^\\]]*\\]");
                int[] s = spans.get(r.nextInt(spans.size()));
                long dataLength = baseModel.length - dataStart;
                long a = r.nextLong(dataLength + 10);
                long b = r.nextBoolean() ? a + r.nextLong(1000) : r.nextLong(dataLength + 10);
                h.replace(s[0], s[1], "\"data_offsets\":[" + a + "," + b + "]");
                what = "data_offsets at " + s[0] + " -> [" + a + "," + b + "]";
            }
            default -> {
                what = null;
            }
        }
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        long prefix = json.length;
        byte[] data = java.util.Arrays.copyOfRange(baseModel, (int) dataStart, baseModel.length);
        if (op == 7) { // the length prefix
            long[] prefixes = {0, 1, 7, json.length - 1, json.length + 1, json.length + 8, baseModel.length,
                    100_000_000, 1L << 31, 1L << 40, -1, Long.MIN_VALUE, Long.MAX_VALUE};
            prefix = prefixes[r.nextInt(prefixes.length)];
            what = "length prefix " + prefix + " (header " + json.length + ")";
        }
        byte[] file = concat(le64(prefix), json, data);
        if (op == 8) { // truncated
            int at = r.nextInt(file.length);
            file = java.util.Arrays.copyOf(file, at);
            what = "truncated at " + at + " of " + (8 + json.length + data.length);
        }
        Files.write(caseModel(), file);
        return run(index, Kind.HEADER_TEXT, base.family() + ": " + what, baseArgs(caseModel().toString()));
    }

    private static List<int[]> spans(String s, String regex) {
        List<int[]> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(s);
        while (m.find()) {
            out.add(new int[]{m.start(), m.end()});
        }
        return out;
    }

    // --- the header as structure -------------------------------------------------------------------------------

    private Case headerStructure(int index, SplittableRandom r) throws IOException {
        Base base = pickBase(r);
        List<Entry> list = new ArrayList<>(base.entries());
        Map<String, String> meta = new LinkedHashMap<>(base.metadata());
        int pick = r.nextInt(list.size());
        Entry e = list.get(pick);
        String what;
        switch (r.nextInt(8)) {
            case 0 -> { // same element count, another shape (permuted, split or merged dims)
                long[] s = reshapeSameCount(e.shape(), r);
                list.set(pick, new Entry(e.name(), e.dtype(), s, e.data()));
                what = e.name() + " shape " + java.util.Arrays.toString(e.shape()) + " -> " + java.util.Arrays.toString(s);
            }
            case 1 -> { // another element count, data resized to match
                long[] s = e.shape().clone();
                int d = s.length == 0 ? -1 : r.nextInt(s.length);
                if (d < 0) {
                    s = new long[]{1 + r.nextInt(4)};
                } else {
                    long[] options = {1, 2, 3, s[d] - 1, s[d] + 1, s[d] * 2, s[d] / 2 + 1, 31, 33, 48, 77, 100};
                    s[d] = Math.max(1, options[r.nextInt(options.length)]);
                }
                long bytes = elementCount(s) * elementSize(e.dtype());
                if (bytes > 64L << 20) {
                    s = e.shape();
                    bytes = e.data().length;
                }
                list.set(pick, new Entry(e.name(), e.dtype(), s, resize(e.data(), (int) bytes, r)));
                what = e.name() + " shape " + java.util.Arrays.toString(e.shape()) + " -> " + java.util.Arrays.toString(s)
                        + " (data resized)";
            }
            case 2 -> { // another dtype, data resized to match
                String[] types = {"F32", "F16", "BF16", "I32", "I64", "U8", "F64", "I8"};
                String t = types[r.nextInt(types.length)];
                long bytes = elementCount(e.shape()) * elementSize(t);
                list.set(pick, new Entry(e.name(), t, e.shape(), resize(e.data(), (int) bytes, r)));
                what = e.name() + " dtype " + e.dtype() + " -> " + t + " (data resized)";
            }
            case 3 -> {
                list.remove(pick);
                what = e.name() + " removed";
            }
            case 4 -> {
                String[] suffixes = {"x", ".0", "_"};
                String n = r.nextBoolean() ? e.name() + suffixes[r.nextInt(suffixes.length)]
                        : e.name().replaceFirst("\\.\\d+\\.", "." + (7 + r.nextInt(40)) + ".");
                list.set(pick, new Entry(n, e.dtype(), e.shape(), e.data()));
                what = e.name() + " renamed " + n;
            }
            case 5 -> { // a copy under another block number: an inferred layer count goes up
                String n = e.name().replaceFirst("\\.(\\d+)\\.", "." + (r.nextBoolean() ? 11 : 1000 + r.nextInt(100000)) + ".");
                list.add(new Entry(n, e.dtype(), e.shape(), e.data()));
                what = "copy of " + e.name() + " as " + n;
            }
            case 6 -> {
                String[] values = {"0", "-1", "1", "3", "7", "1000000", "2147483648", "abc", "", "4.5"};
                String v = values[r.nextInt(values.length)];
                meta.put(io.sdj.model.LdmLayout.HEADS_METADATA_KEY, v);
                what = "metadata " + io.sdj.model.LdmLayout.HEADS_METADATA_KEY + "=" + v;
            }
            default -> { // the shape gets an extra dimension of 1 or loses one
                long[] s;
                if (e.shape().length > 1 && r.nextBoolean()) {
                    s = java.util.Arrays.copyOf(e.shape(), e.shape().length - 1);
                    s[s.length - 1] *= e.shape()[e.shape().length - 1];
                } else {
                    s = java.util.Arrays.copyOf(e.shape(), e.shape().length + 1);
                    s[s.length - 1] = 1;
                }
                list.set(pick, new Entry(e.name(), e.dtype(), s, e.data()));
                what = e.name() + " rank " + java.util.Arrays.toString(e.shape()) + " -> " + java.util.Arrays.toString(s);
            }
        }
        Files.write(caseModel(), safetensors(list, meta));
        return run(index, Kind.HEADER_STRUCTURE, base.family() + ": " + what, baseArgs(caseModel().toString()));
    }

    private static long[] reshapeSameCount(long[] shape, SplittableRandom r) {
        long n = elementCount(shape);
        if (shape.length > 1 && r.nextBoolean()) {
            long[] s = shape.clone();
            int a = r.nextInt(s.length);
            int b = r.nextInt(s.length);
            long t = s[a];
            s[a] = s[b];
            s[b] = t;
            return s;
        }
        List<Long> divisors = new ArrayList<>();
        for (long d = 1; d * d <= n; d++) {
            if (n % d == 0) {
                divisors.add(d);
            }
        }
        long d = divisors.get(r.nextInt(divisors.size()));
        return r.nextBoolean() ? new long[]{n / d, d} : new long[]{n};
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static int elementSize(String dtype) {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16", "I16" -> 2;
            default -> 1;
        };
    }

    private static byte[] resize(byte[] data, int bytes, SplittableRandom r) {
        byte[] out = java.util.Arrays.copyOf(data, bytes);
        for (int i = data.length; i < bytes; i++) {
            out[i] = (byte) r.nextInt(256);
        }
        return out;
    }

    /** A safetensors file from entries as given (no checks: shapes, dtypes and sizes may disagree). */
    static byte[] safetensors(List<Entry> list, Map<String, String> meta) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> m : meta.entrySet()) {
            h.append(first ? "" : ",").append(io.sdj.model.JsonValue.quote(m.getKey())).append(':')
                    .append(io.sdj.model.JsonValue.quote(m.getValue()));
            first = false;
        }
        h.append('}');
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Entry e : list) {
            long begin = data.size();
            data.writeBytes(e.data());
            h.append(',').append(io.sdj.model.JsonValue.quote(e.name())).append(":{\"dtype\":\"").append(e.dtype())
                    .append("\",\"shape\":").append(java.util.Arrays.toString(e.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(begin).append(',').append(data.size()).append("]}");
        }
        h.append('}');
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        return concat(le64(json.length), json, data.toByteArray());
    }

    // --- the data ----------------------------------------------------------------------------------------------

    private Case data(int index, SplittableRandom r) throws IOException {
        Base base = pickBase(r);
        byte[] baseModel = base.bytes();
        long dataStart = base.dataStart();
        byte[] file = baseModel.clone();
        long dataLength = baseModel.length - dataStart;
        String[] patterns = {"nan", "inf", "random", "zero", "max"};
        String p = patterns[r.nextInt(patterns.length)];
        int runs = 1 + r.nextInt(8);
        for (int k = 0; k < runs; k++) {
            int at = (int) (dataStart + (r.nextLong(dataLength) & ~1L));
            int len = Math.min(2 * (1 + r.nextInt(4096)), baseModel.length - at) & ~1;
            for (int i = 0; i + 1 < len; i += 2) {
                int v = switch (p) {
                    case "nan" -> 0x7e00;
                    case "inf" -> r.nextBoolean() ? 0x7c00 : 0xfc00;
                    case "zero" -> 0;
                    case "max" -> 0x7bff;
                    default -> r.nextInt(65536);
                };
                file[at + i] = (byte) v;
                file[at + i + 1] = (byte) (v >> 8);
            }
        }
        Files.write(caseModel(), file);
        List<String> args = baseArgs(caseModel().toString());
        if (r.nextBoolean()) {
            args.addAll(List.of("-i", work.resolve("base.png").toString()));
        }
        return run(index, Kind.DATA, base.family() + ": " + runs + " runs of " + p + " f16 values", args);
    }

    // --- whole models of odd shapes ------------------------------------------------------------------------------

    private Case modelShape(int index, SplittableRandom r) throws IOException {
        int family = r.nextInt(4);
        TinySd15Writer.Builder b = (family == 2 ? TinySd15Writer.sd2() : family == 3 ? TinySd15Writer.sdxl()
                : TinySd15Writer.builder()).vaeChMult(1, 1, 1, 1).seed(index);
        StringBuilder what = new StringBuilder(family == 2 ? "SD2; " : family == 3 ? "SDXL; " : "SD1; ");
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            switch (r.nextInt(10)) {
                case 0 -> { int v = pick(r, 1, 10, 1000, 49406, 49407, 50000); b.vocab(v); what.append("vocab ").append(v); }
                case 1 -> { int v = pick(r, 1, 16, 76, 78, 100); b.positions(v); what.append("positions ").append(v); }
                case 2 -> { int v = pick(r, 0, 1, 3, 3, 256, 257); b.clipLayers(v); what.append("clip layers ").append(v); }
                case 3 -> { int v = pick(r, 0, 2, 3); b.numResBlocks(v); what.append("res blocks ").append(v); }
                case 4 -> { int v = pick(r, 1, 3, 8); b.inChannels(v); what.append("in channels ").append(v); }
                case 5 -> { int v = pick(r, 1, 3, 8); b.outChannels(v); what.append("out channels ").append(v); }
                case 6 -> { int v = pick(r, 1, 3, 8); b.zChannels(v); b.embedDim(v); what.append("z ").append(v); }
                case 7 -> { b.channelMult(1); b.attention(true); what.append("one level"); }
                case 8 -> { b.vaeChMult(1, 1); what.append("vae 2 levels"); }
                default -> { int v = pick(r, 16, 48, 64); b.contextDim(v); what.append("context ").append(v); }
            }
            what.append("; ");
        }
        try {
            b.write(caseModel());
        } catch (RuntimeException e) {
            // the writer's own configuration checks refused it: the file is then the base model with one tensor gone
            Base base = bases.getFirst();
            Files.write(caseModel(), safetensors(base.entries().subList(1, base.entries().size()), base.metadata()));
            what.append("(writer refused: ").append(e.getMessage()).append("; base model without ")
                    .append(base.entries().getFirst().name()).append(')');
        }
        return run(index, Kind.MODEL_SHAPE, what.toString(), baseArgs(caseModel().toString()));
    }

    private static int pick(SplittableRandom r, int... v) {
        return v[r.nextInt(v.length)];
    }

    // --- the init image ----------------------------------------------------------------------------------------

    private Case initImage(int index, SplittableRandom r) throws IOException {
        byte[] png = basePng.clone();
        String what;
        Path file = work.resolve("case.png");
        switch (r.nextInt(7)) {
            case 0, 1 -> { // IHDR width/height with a valid CRC
                int[] sizes = {0, 1, 2, 15, 17, 4096, 16384, 16385, 100_000, 1 << 24, Integer.MAX_VALUE, -1};
                int w = sizes[r.nextInt(sizes.length)];
                int h = r.nextBoolean() ? w : sizes[r.nextInt(sizes.length)];
                ByteBuffer.wrap(png, 16, 8).putInt(w).putInt(h);
                fixIhdrCrc(png);
                what = "IHDR " + w + "x" + h;
            }
            case 2 -> { // bit depth / colour type
                int[] depths = {1, 2, 4, 8, 16, 0, 3, 255};
                int[] types = {0, 2, 3, 4, 6, 1, 7};
                png[24] = (byte) depths[r.nextInt(depths.length)];
                png[25] = (byte) types[r.nextInt(types.length)];
                fixIhdrCrc(png);
                what = "IHDR depth " + png[24] + " type " + png[25];
            }
            case 3 -> {
                int n = 1 + r.nextInt(16);
                for (int i = 0; i < n; i++) {
                    png[8 + r.nextInt(png.length - 8)] = (byte) r.nextInt(256);
                }
                what = n + " bytes replaced";
            }
            case 4 -> {
                int at = r.nextInt(png.length);
                png = java.util.Arrays.copyOf(png, at);
                what = "truncated at " + at;
            }
            case 5 -> { // other formats with huge or broken headers
                String[] forms = {"bmp", "gif", "jpeg-huge", "empty", "text"};
                String f = forms[r.nextInt(forms.length)];
                png = switch (f) {
                    case "bmp" -> bmpHeader(r.nextBoolean() ? 100_000 : 1, r.nextBoolean() ? 100_000 : -1);
                    case "gif" -> concat("GIF89a".getBytes(StandardCharsets.US_ASCII), new byte[]{(byte) 0xff, (byte) 0xff,
                            (byte) 0xff, (byte) 0xff, 0, 0, 0});
                    case "jpeg-huge" -> jpegSof(65000, 65000);
                    case "empty" -> new byte[0];
                    default -> "not an image".getBytes(StandardCharsets.US_ASCII);
                };
                what = "format " + f;
            }
            default -> { // a valid image of an odd size
                int w = 1 + r.nextInt(40);
                int h = 1 + r.nextInt(40);
                BufferedImage img = new BufferedImage(w, h, r.nextBoolean() ? BufferedImage.TYPE_BYTE_GRAY
                        : BufferedImage.TYPE_INT_ARGB);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ImageIO.write(img, "png", out);
                png = out.toByteArray();
                what = "valid " + w + "x" + h;
            }
        }
        Files.write(file, png);
        List<String> args = baseArgs(work.resolve("base.safetensors").toString());
        args.addAll(List.of("-i", file.toString()));
        if (r.nextBoolean()) { // size from the image
            int wi = args.indexOf("-W");
            args.subList(wi, wi + 4).clear();
        }
        return run(index, Kind.INIT_IMAGE, what, args);
    }

    private static void fixIhdrCrc(byte[] png) {
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
    }

    private static byte[] bmpHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(54 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(70).putInt(0).putInt(54);
        b.putInt(40).putInt(w).putInt(h).putShort((short) 1).putShort((short) 24).putInt(0).putInt(16)
                .putInt(2835).putInt(2835).putInt(0).putInt(0);
        return b.array();
    }

    private static byte[] jpegSof(int w, int h) {
        return new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xc0, 0, 17, 8, (byte) (h >> 8), (byte) h,
                (byte) (w >> 8), (byte) w, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, (byte) 0xff, (byte) 0xd9};
    }

    // --- the command line --------------------------------------------------------------------------------------

    private static final String[] FLAGS = {"-m", "-p", "-n", "-W", "-H", "--steps", "--cfg-scale", "--sampling-method",
            "--scheduler", "-s", "--rng", "--type", "-i", "--strength", "--clip-skip", "--prediction", "-b", "-t",
            "-o", "--output-begin-idx", "--backend", "--tokenizer", "--list-devices", "-v", "-h", "--preview",
            "--preview-path", "--preview-interval", "--vae", "--bogus", "-", "--", ""};

    private String[] values() {
        return new String[]{"", " ", "-1", "0", "1", "2", "3", "17", "33", "1000", "1001", "16385", "2147483647",
                "-2147483648", "99999999999999999999", "NaN", "Infinity", "-0.0", "1e40", "1e-45", "0.5", "7", "abc",
                "0x10", " 5 ", "%n%s%d", "euler", "lcm", "karras", "q8_0", "q4_k", "f32", "i32", "v", "eps", "cpu",
                "vulkan", "Vulkan0", "cuda", "std_default", "proj", "x".repeat(5000), "\u00e9\u4e2d\ud83d\ude00",
                "<lora:foo:1.0>", "(((((((((((a:1.5)", "[" .repeat(300), "a, ".repeat(200), "/nonexistent/file",
                "/dev/null", "/dev/zero", work.toString(), work.resolve("base.png").toString(),
                work.resolve("base.safetensors").toString(), work.resolve("sub/dir/out_%03d.png").toString(),
                work.resolve("out.jpg").toString(), work.resolve("out").toString(), work.resolve("%d%d%d.png").toString(),
                work.resolve("out_%s.png").toString(), work.resolve("out_%999999999d.png").toString()};
    }

    /** Flags whose value names a file sdj writes: only paths in the work folder are used for them. */
    private static boolean writes(String flag) {
        return flag.equals("-o") || flag.equals("--output") || flag.equals("--preview-path");
    }

    private Case arguments(int index, SplittableRandom r) {
        List<String> args = baseArgs(work.resolve("base.safetensors").toString());
        String[] values = values();
        int n = 1 + r.nextInt(3);
        StringBuilder what = new StringBuilder();
        for (int k = 0; k < n; k++) {
            switch (r.nextInt(5)) {
                case 0, 1 -> { // a flag's value replaced (or a flag added)
                    String flag = FLAGS[r.nextInt(FLAGS.length)];
                    String v = values[r.nextInt(values.length)];
                    if (writes(flag) && !v.startsWith(work.toString())) {
                        v = work.resolve("w" + (v.length() > 40 ? "long" : v.replace('/', '_').replace('\0', '_'))).toString();
                    }
                    int at = args.indexOf(flag);
                    if (at >= 0 && at + 1 < args.size()) {
                        args.set(at + 1, v);
                    } else {
                        args.add(flag);
                        args.add(v);
                    }
                    what.append(flag).append(' ').append(v.length() > 40 ? v.length() + " chars" : v);
                }
                case 2 -> {
                    int at = r.nextInt(args.size());
                    what.append("removed ").append(args.remove(at));
                }
                case 3 -> {
                    String flag = FLAGS[r.nextInt(FLAGS.length)];
                    if (!writes(flag)) {
                        args.add(flag);
                    }
                    what.append("appended ").append(flag);
                }
                default -> {
                    int at = r.nextInt(args.size());
                    args.add(at, args.get(r.nextInt(args.size())));
                    what.append("duplicated at ").append(at);
                }
            }
            what.append("; ");
        }
        // never let an -o survive that points outside the work folder or at a base file (a removed flag can shift
        // values)
        for (int i = 0; i + 1 < args.size(); i++) {
            String v = args.get(i + 1);
            if (writes(args.get(i)) && (!v.startsWith(work.toString()) || v.contains("base"))) {
                args.set(i + 1, work.resolve("shifted.png").toString());
            }
        }
        if (!args.contains("-o") && !args.contains("--output")) {
            args.addAll(List.of("-o", work.resolve("out.png").toString()));
        }
        return run(index, Kind.ARGUMENTS, what.toString(), args);
    }

    // --- bytes -------------------------------------------------------------------------------------------------

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
