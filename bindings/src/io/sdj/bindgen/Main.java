package io.sdj.bindgen;

import io.sdj.bindgen.Model.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Command line of the ggml binding generator.
 *
 * <pre>
 * Main --libclang PATH --resource-dir DIR [--sysroot DIR] -I INCLUDEDIR [--target-package io.sdj.ggml]
 *      [--header-class-name ggml_h] --output OUTDIR header.h...
 * </pre>
 * Headers are names inside the include directory (or absolute paths). They are parsed as one translation unit
 * through a generated wrapper, and only declarations located in them are emitted.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws IOException {
        Path libclang = null, resourceDir = null, sysroot = null, output = null;
        List<Path> includes = new ArrayList<>();
        List<String> headerArgs = new ArrayList<>();
        String pkg = "io.sdj.ggml", headerClass = "ggml_h";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--libclang" -> libclang = Path.of(args[++i]);
                case "--resource-dir" -> resourceDir = Path.of(args[++i]);
                case "--sysroot" -> sysroot = Path.of(args[++i]);
                case "-I" -> includes.add(Path.of(args[++i]));
                case "--output" -> output = Path.of(args[++i]);
                case "--target-package", "-t" -> pkg = args[++i];
                case "--header-class-name" -> headerClass = args[++i];
                default -> {
                    if (a.startsWith("-")) usage("unknown option " + a);
                    headerArgs.add(a);
                }
            }
        }
        if (libclang == null) usage("--libclang is required");
        if (output == null) usage("--output is required");
        if (headerArgs.isEmpty()) usage("no headers given");
        List<Path> headers = new ArrayList<>();
        for (String h : headerArgs) headers.add(resolve(h, includes));

        long t0 = System.nanoTime();
        List<String> clangArgs = new ArrayList<>(List.of("-x", "c"));
        if (resourceDir != null) clangArgs.addAll(List.of("-resource-dir", resourceDir.toString()));
        if (sysroot != null) clangArgs.addAll(List.of("--sysroot", sysroot.toString()));
        for (Path inc : includes) clangArgs.addAll(List.of("-I", inc.toString()));

        StringBuilder wrapper = new StringBuilder("// sdj bindgen wrapper\n");
        for (Path h : headers) wrapper.append("#include \"").append(h).append("\"\n");
        String wrapperName = "/sdj-bindgen/ggml_wrapper.h";

        Unit unit;
        try (Arena arena = Arena.ofConfined()) {
            Clang clang = new Clang(libclang, arena);
            MemorySegment index = clang.createIndex();
            MemorySegment tu = clang.parse(index, wrapperName, wrapper.toString(), clangArgs,
                    Clang.TU_DETAILED_PREPROCESSING_RECORD);
            List<String> errors = clang.errors(tu);
            if (!errors.isEmpty()) {
                errors.forEach(e -> System.err.println("bindgen: clang: " + e));
                throw new IllegalStateException("the headers do not parse (" + errors.size() + " errors); see above");
            }
            Parser parser = new Parser(clang, headers);
            parser.visitTopLevel(clang.children(clang.tuCursor(tu)));
            clang.disposeTU(tu);

            List<String> macros = parser.macros();
            if (!macros.isEmpty()) {
                MemorySegment tu2 = clang.parse(index, wrapperName, wrapper + Parser.macroProbe(macros), clangArgs, 0);
                parser.macroValues(clang.children(clang.tuCursor(tu2)), macros);
                clang.disposeTU(tu2);
            }
            clang.disposeIndex(index);
            unit = parser.unit();
        }
        long parsed = System.nanoTime();

        checkLayouts(unit);
        Map<String, String> files = new Emitter(pkg, headerClass).emit(unit);
        Path dir = output.resolve(pkg.replace('.', '/'));
        Files.createDirectories(dir);
        try (Stream<Path> old = Files.list(dir)) {
            for (Path p : old.filter(p -> p.toString().endsWith(".java")).toList()) Files.delete(p);
        }
        for (var e : new TreeMap<>(files).entrySet()) {
            Files.writeString(dir.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
        }
        report(unit, files.size(), dir, (parsed - t0) / 1_000_000, (System.nanoTime() - parsed) / 1_000_000);
    }

    private static Path resolve(String h, List<Path> includes) {
        Path p = Path.of(h);
        if (p.isAbsolute()) {
            if (!Files.isRegularFile(p)) usage("header not found: " + p);
            return p;
        }
        for (Path inc : includes) {
            if (Files.isRegularFile(inc.resolve(h))) return inc.resolve(h);
        }
        usage("header " + h + " not found in " + includes);
        return null;
    }

    private static void usage(String why) {
        System.err.println("bindgen: " + why);
        System.err.println("usage: Main --libclang PATH [--resource-dir DIR] [--sysroot DIR] -I INCLUDEDIR"
                + " [--target-package PKG] [--header-class-name NAME] --output DIR header.h...");
        System.exit(2);
    }

    /** Rebuilds every struct layout the way the emitted code does and checks it against clang's size and alignment. */
    private static void checkLayouts(Unit unit) {
        Map<String, MemoryLayout> done = new HashMap<>();
        Map<String, Struct> byName = new HashMap<>();
        for (Struct s : unit.structs()) byName.put(s.className(), s);
        for (Struct s : unit.structs()) {
            MemoryLayout l = layoutOf(s, byName, done);
            if (l.byteSize() != s.size() || l.byteAlignment() != s.align()) {
                throw new IllegalStateException("layout of " + s.className() + ": " + l.byteSize() + " bytes, align "
                        + l.byteAlignment() + "; clang says " + s.size() + " bytes, align " + s.align());
            }
            for (Field f : s.fields()) {
                long off = l.byteOffset(MemoryLayout.PathElement.groupElement(f.name()));
                if (off != f.offset()) throw new IllegalStateException("offset of " + s.className() + "." + f.name());
            }
        }
    }

    private static MemoryLayout layoutOf(Struct s, Map<String, Struct> byName, Map<String, MemoryLayout> done) {
        MemoryLayout cached = done.get(s.className());
        if (cached != null) return cached;
        List<MemoryLayout> members = new ArrayList<>();
        long pos = 0;
        for (Field f : s.fields()) {
            if (!s.union() && f.offset() > pos) members.add(MemoryLayout.paddingLayout(f.offset() - pos));
            members.add(layoutOf(f.type(), byName, done).withName(f.name()));
            pos = s.union() ? Math.max(pos, Emitter.byteSize(f.type())) : f.offset() + Emitter.byteSize(f.type());
        }
        if (s.size() > pos) members.add(MemoryLayout.paddingLayout(s.size() - pos));
        MemoryLayout[] arr = members.toArray(MemoryLayout[]::new);
        MemoryLayout l = s.union() ? MemoryLayout.unionLayout(arr) : MemoryLayout.structLayout(arr);
        done.put(s.className(), l);
        return l;
    }

    private static MemoryLayout layoutOf(CType t, Map<String, Struct> byName, Map<String, MemoryLayout> done) {
        return switch (t) {
            case Prim p -> switch (p.layout()) {
                case "C_BOOL" -> ValueLayout.JAVA_BOOLEAN;
                case "C_CHAR" -> ValueLayout.JAVA_BYTE;
                case "C_SHORT" -> ValueLayout.JAVA_SHORT;
                case "C_INT" -> ValueLayout.JAVA_INT;
                case "C_FLOAT" -> ValueLayout.JAVA_FLOAT;
                case "C_DOUBLE" -> ValueLayout.JAVA_DOUBLE;
                default -> ValueLayout.JAVA_LONG;
            };
            case Ptr p -> ValueLayout.ADDRESS;
            case Model.Record r -> layoutOf(byName.get(r.className()), byName, done);
            case Array a -> MemoryLayout.sequenceLayout(a.count(), layoutOf(a.element(), byName, done));
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    private static void report(Unit unit, int fileCount, Path dir, long parseMs, long emitMs) {
        Map<String, Integer> counts = new TreeMap<>();
        for (HeaderDecl d : unit.header()) {
            String k = switch (d) {
                case Function f -> "functions";
                case Constant c -> c.comment().startsWith("#define") ? "macro constants" : "enum constants";
                case TypedefLayout t -> "typedef layouts";
            };
            counts.merge(k, 1, Integer::sum);
        }
        counts.put("structs/unions", unit.structs().size());
        counts.put("struct alias typedefs", unit.aliases().size());
        counts.put("function-pointer typedefs", unit.functionPointers().size());
        List<String> skipped = unit.skipped().stream().sorted().distinct().toList();
        for (String s : skipped) System.err.println("bindgen: skipped " + s);
        StringBuilder sb = new StringBuilder("bindgen: wrote " + fileCount + " files to " + dir + ":");
        counts.forEach((k, v) -> sb.append(' ').append(v).append(' ').append(k).append(','));
        sb.append(' ').append(skipped.size()).append(" skipped; parse ").append(parseMs).append(" ms, emit ")
                .append(emitMs).append(" ms");
        System.err.println(sb);
    }
}
