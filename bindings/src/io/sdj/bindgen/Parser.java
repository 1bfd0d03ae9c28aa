package io.sdj.bindgen;

import io.sdj.bindgen.Model.*;

import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Walks one translation unit (a wrapper header including every requested ggml header) and keeps the
 * declarations whose location is one of those headers.
 */
final class Parser {
    private final Clang clang;
    private final Set<Path> headers;
    private final Map<String, Boolean> fileCache = new HashMap<>();
    private final List<String> skipped = new ArrayList<>();

    private final List<HeaderDecl> header = new ArrayList<>();
    private final Set<String> headerNames = new LinkedHashSet<>();
    private final Map<String, Struct> structs = new LinkedHashMap<>();
    private final Map<String, StructAlias> aliases = new LinkedHashMap<>();
    private final Map<String, FunctionPointer> functionPointers = new LinkedHashMap<>();
    /** Anonymous record declarations (keyed by location) named by a typedef. */
    private final Map<String, String> anonRecordNames = new HashMap<>();
    private final List<String> macros = new ArrayList<>();

    Parser(Clang clang, List<Path> headers) {
        this.clang = clang;
        this.headers = new LinkedHashSet<>();
        for (Path h : headers) this.headers.add(real(h));
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve header " + p, e);
        }
    }

    private boolean inHeaders(Clang.Location loc) {
        if (loc.file().isEmpty()) return false;
        return fileCache.computeIfAbsent(loc.file(), f -> {
            Path p = Path.of(f);
            return Files.exists(p) && headers.contains(real(p));
        });
    }

    private static String key(Clang.Location l) {
        return l.file() + ":" + l.offset();
    }

    List<String> macros() {
        return macros;
    }

    Unit unit() {
        return new Unit(header, List.copyOf(structs.values()), List.copyOf(aliases.values()),
                List.copyOf(functionPointers.values()), skipped);
    }

    void skip(String what) {
        skipped.add(what);
    }

    /** First pass: names for anonymous records declared through a typedef. */
    void collectTypedefNames(List<MemorySegment> top) {
        for (MemorySegment c : top) {
            if (clang.kind(c) != Clang.TYPEDEF_DECL) continue;
            MemorySegment canon = clang.canonical(clang.typedefUnderlying(c));
            if (clang.typeKind(canon) != Clang.T_RECORD) continue;
            MemorySegment decl = clang.declaration(canon);
            if (clang.isAnonymous(decl)) anonRecordNames.putIfAbsent(key(clang.location(decl)), clang.spelling(c));
        }
    }

    void visitTopLevel(List<MemorySegment> top) {
        collectTypedefNames(top);
        for (MemorySegment c : top) {
            int kind = clang.kind(c);
            Clang.Location loc = clang.location(c);
            if (!inHeaders(loc)) continue;
            switch (kind) {
                case Clang.FUNCTION_DECL -> function(c, loc);
                case Clang.STRUCT_DECL, Clang.UNION_DECL -> {
                    if (clang.isDefinition(c) && !clang.isAnonymous(c)) record(c, clang.spelling(c), kind == Clang.UNION_DECL);
                }
                case Clang.ENUM_DECL -> enumDecl(c);
                case Clang.TYPEDEF_DECL -> typedef(c, loc);
                case Clang.VAR_DECL -> skip("variable " + clang.spelling(c) + " (" + where(loc)
                        + "): global variables are not bound (static const in a header has no symbol)");
                case Clang.MACRO_DEFINITION -> {
                    String name = clang.spelling(c);
                    if (clang.isMacroFunctionLike(c)) skip("macro " + name + ": function-like");
                    else if (!macros.contains(name)) macros.add(name);
                }
                default -> { }
            }
        }
    }

    private static String where(Clang.Location l) {
        return Path.of(l.file()).getFileName() + ":" + l.line();
    }

    private boolean addHeaderName(String name) {
        return headerNames.add(name);
    }

    // ---- functions

    private void function(MemorySegment c, Clang.Location loc) {
        String name = clang.spelling(c);
        if (headerNames.contains(name)) return; // redeclaration
        MemorySegment type = clang.type(c);
        if (clang.storageClass(c) == Clang.SC_STATIC) {
            skip("function " + name + " (" + where(loc) + "): static, no exported symbol");
            return;
        }
        if (clang.typeKind(type) != Clang.T_FUNCTION_PROTO) {
            skip("function " + name + " (" + where(loc) + "): no prototype");
            return;
        }
        if (clang.isVariadic(type)) {
            skip("function " + name + " (" + where(loc) + "): variadic (jextract's makeInvoker form not emitted)");
            return;
        }
        CType ret = map(clang.resultType(type), true);
        List<Param> params = new ArrayList<>();
        int n = clang.numArgTypes(type);
        int named = clang.numArguments(c);
        StringBuilder sig = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String pname = i < named ? clang.spelling(clang.argument(c, i)) : "";
            MemorySegment at = clang.argType(type, i);
            CType pt = map(at, false);
            if (pt instanceof Unsupported u) {
                skip("function " + name + " (" + where(loc) + "): parameter " + i + " " + u.why());
                return;
            }
            params.add(new Param(Names.javaName(pname.isEmpty() ? "x" + i : pname), pt));
            if (i > 0) sig.append(", ");
            sig.append(cdecl(clang.typeSpelling(at), pname));
        }
        if (ret instanceof Unsupported u) {
            skip("function " + name + " (" + where(loc) + "): return type " + u.why());
            return;
        }
        addHeaderName(name);
        String csig = cdecl(clang.typeSpelling(clang.resultType(type)), name) + "(" + (n == 0 ? "void" : sig) + ")";
        header.add(new Function(name, ret, params, csig));
    }

    private static String cdecl(String typeSpelling, String name) {
        if (name.isEmpty()) return typeSpelling;
        return typeSpelling.endsWith("*") ? typeSpelling + name : typeSpelling + " " + name;
    }

    // ---- enums

    private void enumDecl(MemorySegment c) {
        String ename = clang.isAnonymous(c) ? "<anonymous>" : clang.spelling(c);
        MemorySegment it = clang.canonical(clang.enumIntegerType(c));
        boolean wide = clang.sizeOf(it) > 4;
        for (MemorySegment k : clang.children(c)) {
            if (clang.kind(k) != Clang.ENUM_CONSTANT_DECL) continue;
            String name = clang.spelling(k);
            if (!addHeaderName(name)) continue;
            long v = clang.enumValue(k);
            String lit = wide ? v + "L" : "(int)" + v + "L";
            header.add(new Constant(name, wide ? "long" : "int", lit, "enum " + ename + "." + name + " = " + v));
        }
    }

    // ---- typedefs

    private void typedef(MemorySegment c, Clang.Location loc) {
        String name = clang.spelling(c);
        MemorySegment under = clang.typedefUnderlying(c);
        MemorySegment canon = clang.canonical(under);
        String text = "typedef " + cdecl(clang.typeSpelling(under), name);
        switch (clang.typeKind(canon)) {
            case Clang.T_POINTER -> {
                MemorySegment pointee = clang.canonical(clang.pointee(canon));
                if (clang.typeKind(pointee) == Clang.T_FUNCTION_PROTO && !functionPointers.containsKey(name)) {
                    functionPointer(c, name, pointee, loc);
                }
                if (addHeaderName(name)) header.add(new TypedefLayout(name, "AddressLayout", "C_POINTER", text));
            }
            case Clang.T_RECORD -> {
                MemorySegment decl = clang.declaration(canon);
                if (clang.isAnonymous(decl)) {
                    if (!structs.containsKey(name)) record(decl, name, clang.kind(decl) == Clang.UNION_DECL);
                } else {
                    String target = clang.spelling(decl);
                    if (!target.equals(name) && !aliases.containsKey(name)) {
                        aliases.put(name, new StructAlias(name, target, text));
                    }
                }
            }
            case Clang.T_CONSTANT_ARRAY, Clang.T_INCOMPLETE_ARRAY ->
                    skip("typedef " + name + " (" + where(loc) + "): array typedef (use the element type / pointer)");
            default -> {
                CType t = map(canon, false);
                if (t instanceof Prim p) {
                    if (addHeaderName(name)) header.add(new TypedefLayout(name, p.layoutType(), p.layout(), text));
                } else {
                    skip("typedef " + name + " (" + where(loc) + "): " + (t instanceof Unsupported u ? u.why() : "not a scalar"));
                }
            }
        }
    }

    private void functionPointer(MemorySegment c, String name, MemorySegment fn, Clang.Location loc) {
        List<String> names = new ArrayList<>();
        for (MemorySegment k : clang.children(c)) {
            if (clang.kind(k) == Clang.PARM_DECL) names.add(clang.spelling(k));
        }
        int n = clang.numArgTypes(fn);
        if (clang.isVariadic(fn)) {
            skip("function pointer " + name + " (" + where(loc) + "): variadic");
            return;
        }
        List<Param> params = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CType pt = map(clang.argType(fn, i), false);
            if (pt instanceof Unsupported u) {
                skip("function pointer " + name + " (" + where(loc) + "): parameter " + i + " " + u.why());
                return;
            }
            String pn = names.size() == n && !names.get(i).isEmpty() ? Names.javaName(names.get(i)) : "_x" + i;
            params.add(new Param(pn, pt));
        }
        CType ret = map(clang.resultType(fn), true);
        if (ret instanceof Unsupported u) {
            skip("function pointer " + name + " (" + where(loc) + "): return type " + u.why());
            return;
        }
        String text = "typedef " + clang.typeSpelling(clang.typedefUnderlying(c)).replace("(*)", "(*" + name + ")");
        functionPointers.put(name, new FunctionPointer(name, ret, params, text));
    }

    // ---- records

    private void record(MemorySegment c, String className, boolean union) {
        if (structs.containsKey(className)) return;
        MemorySegment type = clang.type(c);
        long size = clang.sizeOf(type), align = clang.alignOf(type);
        if (size < 0) return; // incomplete
        List<Field> fields = new ArrayList<>();
        StringBuilder text = new StringBuilder((union ? "union " : "struct ") + className + " {\n");
        for (MemorySegment f : clang.children(c)) {
            int k = clang.kind(f);
            if ((k == Clang.STRUCT_DECL || k == Clang.UNION_DECL) && clang.isDefinition(f)) {
                skip("struct " + className + ": nested record declaration (fields of that type are skipped)");
                continue;
            }
            if (k != Clang.FIELD_DECL) continue;
            String fname = clang.spelling(f);
            MemorySegment ft = clang.type(f);
            String ctext = cdecl(clang.typeSpelling(ft), fname);
            if (clang.isBitField(f)) {
                skip("struct " + className + "." + fname + ": bitfield (covered by padding)");
                continue;
            }
            CType t = map(ft, false);
            if (t instanceof Unsupported u) {
                skip("struct " + className + "." + fname + ": " + u.why() + " (covered by padding)");
                continue;
            }
            long off = clang.fieldOffsetBits(f);
            if (off < 0 || off % 8 != 0) {
                skip("struct " + className + "." + fname + ": offset unavailable (" + off + ")");
                continue;
            }
            fields.add(new Field(fname, t, off / 8, ctext));
            text.append("    ").append(ctext).append(";\n");
        }
        text.append("}");
        structs.put(className, new Struct(className, union, size, align, fields, text.toString()));
    }

    // ---- types

    private CType map(MemorySegment t, boolean isReturn) {
        MemorySegment canon = clang.canonical(t);
        int k = clang.typeKind(canon);
        return switch (k) {
            case Clang.T_VOID -> isReturn ? new Model.Void() : new Unsupported("void value");
            case Clang.T_BOOL -> Model.BOOL;
            case Clang.T_CHAR_U, Clang.T_UCHAR, Clang.T_CHAR_S, Clang.T_SCHAR -> Model.CHAR;
            case Clang.T_SHORT, Clang.T_USHORT -> Model.SHORT;
            case Clang.T_INT, Clang.T_UINT -> Model.INT;
            case Clang.T_LONG, Clang.T_ULONG -> Model.LONG;
            case Clang.T_LONGLONG, Clang.T_ULONGLONG -> Model.LONG_LONG;
            case Clang.T_FLOAT -> Model.FLOAT;
            case Clang.T_DOUBLE -> Model.DOUBLE;
            case Clang.T_ENUM -> {
                long size = clang.sizeOf(canon);
                yield size == 4 ? Model.INT : size == 8 ? Model.LONG : new Unsupported("enum of size " + size);
            }
            case Clang.T_POINTER -> new Ptr();
            case Clang.T_RECORD -> {
                MemorySegment decl = clang.declaration(canon);
                long size = clang.sizeOf(canon);
                if (size < 0) yield new Unsupported("incomplete record " + clang.typeSpelling(canon) + " by value");
                String name = clang.isAnonymous(decl) ? anonRecordNames.get(key(clang.location(decl))) : clang.spelling(decl);
                if (name == null) yield new Unsupported("anonymous record " + clang.typeSpelling(canon));
                if (!structs.containsKey(name)) {
                    if (inHeaders(clang.location(decl))) record(decl, name, clang.kind(decl) == Clang.UNION_DECL);
                    else yield new Unsupported("record " + name + " from outside the ggml headers by value");
                }
                yield new Model.Record(name, size);
            }
            case Clang.T_CONSTANT_ARRAY -> {
                CType e = map(clang.elementType(canon), false);
                if (e instanceof Unsupported) yield e;
                yield new Array(e, clang.arraySize(canon));
            }
            case Clang.T_INCOMPLETE_ARRAY -> isReturn ? new Unsupported("array return") : new Ptr();
            default -> new Unsupported("type " + clang.typeSpelling(canon) + " (kind " + k + ")");
        };
    }

    // ---- macros

    /** Source appended to the wrapper so that clang evaluates each object-like macro. */
    static String macroProbe(List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            sb.append("__auto_type __sdj_macro_").append(i).append(" = ").append(names.get(i)).append(";\n");
        }
        return sb.toString();
    }

    /** Reads the probe variables back (second translation unit) and adds the macros that evaluate to constants. */
    void macroValues(List<MemorySegment> top, List<String> names) {
        Map<Integer, MemorySegment> vars = new HashMap<>();
        for (MemorySegment c : top) {
            if (clang.kind(c) != Clang.VAR_DECL) continue;
            String s = clang.spelling(c);
            if (s.startsWith("__sdj_macro_")) vars.put(Integer.parseInt(s.substring(12)), c);
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            MemorySegment v = vars.get(i);
            if (v == null) { skip("macro " + name + ": not an expression"); continue; }
            if (headerNames.contains(name)) { skip("macro " + name + ": name already used"); continue; }
            MemorySegment t = clang.canonical(clang.type(v));
            int tk = clang.typeKind(t);
            Clang.Eval e = clang.evaluate(v);
            Constant k = switch (e) {
                case Clang.IntEval iv when tk != Clang.T_POINTER && tk != Clang.T_INVALID -> {
                    long size = clang.sizeOf(t);
                    if (size == 8) yield new Constant(name, "long", iv.value() + "L", "#define " + name + " " + iv.value());
                    yield new Constant(name, "int", "(int)" + iv.value() + "L", "#define " + name + " " + iv.value());
                }
                case Clang.FloatEval fv when tk == Clang.T_FLOAT ->
                        new Constant(name, "float", Float.toString((float) fv.value()) + "f", "#define " + name + " " + fv.value());
                case Clang.FloatEval fv when tk == Clang.T_DOUBLE ->
                        new Constant(name, "double", Double.toString(fv.value()) + "d", "#define " + name + " " + fv.value());
                case Clang.StrEval sv -> new Constant(name, "String", Names.javaString(sv.value()),
                        "#define " + name + " " + Names.javaString(sv.value()));
                default -> null;
            };
            if (k == null) { skip("macro " + name + ": does not evaluate to a number or string"); continue; }
            headerNames.add(name);
            header.add(k);
        }
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
