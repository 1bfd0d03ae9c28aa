package io.sdj.bindgen;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * The handful of libclang entry points the generator needs, bound by hand through FFM.
 * Cursors and types are passed around as copies of libclang's by-value structs, held in the arena given to the
 * constructor; strings are copied into Java and disposed at once.
 */
final class Clang {
    /** struct CXCursor { enum CXCursorKind kind; int xdata; const void *data[3]; } */
    static final MemoryLayout CURSOR = MemoryLayout.structLayout(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    /** struct CXType { enum CXTypeKind kind; void *data[2]; } */
    static final MemoryLayout TYPE = MemoryLayout.structLayout(JAVA_INT, MemoryLayout.paddingLayout(4), ADDRESS, ADDRESS);
    /** struct CXString { const void *data; unsigned private_flags; } */
    static final MemoryLayout STRING = MemoryLayout.structLayout(ADDRESS, JAVA_INT, MemoryLayout.paddingLayout(4));
    /** struct CXSourceLocation { const void *ptr_data[2]; unsigned int_data; } */
    static final MemoryLayout LOCATION = MemoryLayout.structLayout(ADDRESS, ADDRESS, JAVA_INT, MemoryLayout.paddingLayout(4));
    /** struct CXUnsavedFile { const char *Filename; const char *Contents; unsigned long Length; } */
    static final MemoryLayout UNSAVED = MemoryLayout.structLayout(ADDRESS, ADDRESS, JAVA_LONG);

    // CXCursorKind
    static final int STRUCT_DECL = 2, UNION_DECL = 3, ENUM_DECL = 5, FIELD_DECL = 6, ENUM_CONSTANT_DECL = 7,
            FUNCTION_DECL = 8, VAR_DECL = 9, PARM_DECL = 10, TYPEDEF_DECL = 20, MACRO_DEFINITION = 501;
    // CXTypeKind
    static final int T_INVALID = 0, T_VOID = 2, T_BOOL = 3, T_CHAR_U = 4, T_UCHAR = 5, T_USHORT = 8, T_UINT = 9,
            T_ULONG = 10, T_ULONGLONG = 11, T_CHAR_S = 13, T_SCHAR = 14, T_SHORT = 16, T_INT = 17, T_LONG = 18,
            T_LONGLONG = 19, T_FLOAT = 21, T_DOUBLE = 22, T_POINTER = 101, T_RECORD = 105, T_ENUM = 106,
            T_TYPEDEF = 107, T_FUNCTION_NO_PROTO = 110, T_FUNCTION_PROTO = 111, T_CONSTANT_ARRAY = 112,
            T_INCOMPLETE_ARRAY = 114, T_ELABORATED = 119;
    // CXEvalResultKind
    static final int EVAL_INT = 1, EVAL_FLOAT = 2, EVAL_STR_LITERAL = 4;
    /** CXTranslationUnit_DetailedPreprocessingRecord */
    static final int TU_DETAILED_PREPROCESSING_RECORD = 0x01;
    /** CX_SC_Static */
    static final int SC_STATIC = 3;

    private final Linker linker = Linker.nativeLinker();
    private final SymbolLookup lib;
    private final Arena arena;

    private final MethodHandle createIndex, disposeIndex, parseTU, disposeTU, tuCursor, visitChildren, cursorKind,
            cursorSpelling, cursorType, getCString, disposeString, typeSpelling, canonicalType, pointeeType,
            resultType, numArgTypes, argType, isVariadic, typedefUnderlying, typeDeclaration, arrayElementType,
            arraySize, sizeOf, alignOf, offsetOfField, isBitField, enumConstantValue, cursorLocation, fileLocation,
            fileName, isAnonymous, isDefinition, evaluate, evalKind, evalLongLong, evalIsUnsigned, evalUnsigned,
            evalDouble, evalStr, evalDispose, isMacroFunctionLike, numArguments, getArgument, storageClass,
            numDiagnostics, getDiagnostic, formatDiagnostic, diagnosticSeverity, disposeDiagnostic,
            defaultDiagnosticOptions, enumIntegerType;

    private static final MethodHandle VISIT_UPCALL;
    static {
        try {
            VISIT_UPCALL = MethodHandles.lookup().findStatic(Clang.class, "visit",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final ThreadLocal<List<MemorySegment>> SINK = new ThreadLocal<>();
    private static final ThreadLocal<Arena> SINK_ARENA = new ThreadLocal<>();

    Clang(Path libclang, Arena arena) {
        this.arena = arena;
        this.lib = SymbolLookup.libraryLookup(libclang, arena);
        createIndex = h("clang_createIndex", ADDRESS, JAVA_INT, JAVA_INT);
        disposeIndex = hv("clang_disposeIndex", ADDRESS);
        parseTU = h("clang_parseTranslationUnit2", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
                JAVA_INT, ADDRESS);
        disposeTU = hv("clang_disposeTranslationUnit", ADDRESS);
        tuCursor = h("clang_getTranslationUnitCursor", CURSOR, ADDRESS);
        visitChildren = h("clang_visitChildren", JAVA_INT, CURSOR, ADDRESS, ADDRESS);
        cursorKind = h("clang_getCursorKind", JAVA_INT, CURSOR);
        cursorSpelling = h("clang_getCursorSpelling", STRING, CURSOR);
        cursorType = h("clang_getCursorType", TYPE, CURSOR);
        getCString = h("clang_getCString", ADDRESS, STRING);
        disposeString = hv("clang_disposeString", STRING);
        typeSpelling = h("clang_getTypeSpelling", STRING, TYPE);
        canonicalType = h("clang_getCanonicalType", TYPE, TYPE);
        pointeeType = h("clang_getPointeeType", TYPE, TYPE);
        resultType = h("clang_getResultType", TYPE, TYPE);
        numArgTypes = h("clang_getNumArgTypes", JAVA_INT, TYPE);
        argType = h("clang_getArgType", TYPE, TYPE, JAVA_INT);
        isVariadic = h("clang_isFunctionTypeVariadic", JAVA_INT, TYPE);
        typedefUnderlying = h("clang_getTypedefDeclUnderlyingType", TYPE, CURSOR);
        typeDeclaration = h("clang_getTypeDeclaration", CURSOR, TYPE);
        arrayElementType = h("clang_getArrayElementType", TYPE, TYPE);
        arraySize = h("clang_getArraySize", JAVA_LONG, TYPE);
        sizeOf = h("clang_Type_getSizeOf", JAVA_LONG, TYPE);
        alignOf = h("clang_Type_getAlignOf", JAVA_LONG, TYPE);
        offsetOfField = h("clang_Cursor_getOffsetOfField", JAVA_LONG, CURSOR);
        isBitField = h("clang_Cursor_isBitField", JAVA_INT, CURSOR);
        enumConstantValue = h("clang_getEnumConstantDeclValue", JAVA_LONG, CURSOR);
        enumIntegerType = h("clang_getEnumDeclIntegerType", TYPE, CURSOR);
        cursorLocation = h("clang_getCursorLocation", LOCATION, CURSOR);
        fileLocation = hv("clang_getFileLocation", LOCATION, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        fileName = h("clang_getFileName", STRING, ADDRESS);
        isAnonymous = h("clang_Cursor_isAnonymous", JAVA_INT, CURSOR);
        isDefinition = h("clang_isCursorDefinition", JAVA_INT, CURSOR);
        evaluate = h("clang_Cursor_Evaluate", ADDRESS, CURSOR);
        evalKind = h("clang_EvalResult_getKind", JAVA_INT, ADDRESS);
        evalLongLong = h("clang_EvalResult_getAsLongLong", JAVA_LONG, ADDRESS);
        evalIsUnsigned = h("clang_EvalResult_isUnsignedInt", JAVA_INT, ADDRESS);
        evalUnsigned = h("clang_EvalResult_getAsUnsigned", JAVA_LONG, ADDRESS);
        evalDouble = h("clang_EvalResult_getAsDouble", JAVA_DOUBLE, ADDRESS);
        evalStr = h("clang_EvalResult_getAsStr", ADDRESS, ADDRESS);
        evalDispose = hv("clang_EvalResult_dispose", ADDRESS);
        isMacroFunctionLike = h("clang_Cursor_isMacroFunctionLike", JAVA_INT, CURSOR);
        numArguments = h("clang_Cursor_getNumArguments", JAVA_INT, CURSOR);
        getArgument = h("clang_Cursor_getArgument", CURSOR, CURSOR, JAVA_INT);
        storageClass = h("clang_Cursor_getStorageClass", JAVA_INT, CURSOR);
        numDiagnostics = h("clang_getNumDiagnostics", JAVA_INT, ADDRESS);
        getDiagnostic = h("clang_getDiagnostic", ADDRESS, ADDRESS, JAVA_INT);
        formatDiagnostic = h("clang_formatDiagnostic", STRING, ADDRESS, JAVA_INT);
        diagnosticSeverity = h("clang_getDiagnosticSeverity", JAVA_INT, ADDRESS);
        disposeDiagnostic = hv("clang_disposeDiagnostic", ADDRESS);
        defaultDiagnosticOptions = h("clang_defaultDiagnosticDisplayOptions", JAVA_INT);
    }

    private MethodHandle h(String name, MemoryLayout ret, MemoryLayout... args) {
        return linker.downcallHandle(lib.findOrThrow(name), FunctionDescriptor.of(ret, args));
    }

    private MethodHandle hv(String name, MemoryLayout... args) {
        return linker.downcallHandle(lib.findOrThrow(name), FunctionDescriptor.ofVoid(args));
    }

    private static RuntimeException fail(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- index / translation unit

    MemorySegment createIndex() {
        try {
            MemorySegment index = (MemorySegment) createIndex.invokeExact(0, 0);
            // clang_createIndex enables crash recovery, whose SIGSEGV/SIGBUS handlers replace the JVM's own (the
            // JVM uses SIGSEGV for safepoints and null checks): the JVM then dies in random places. Turn it off
            // again (LIBCLANG_DISABLE_CRASH_RECOVERY=1 in the environment has the same effect).
            linker.downcallHandle(lib.findOrThrow("clang_toggleCrashRecovery"), FunctionDescriptor.ofVoid(JAVA_INT))
                    .invokeExact(0);
            return index;
        } catch (Throwable t) { throw fail(t); }
    }

    void disposeIndex(MemorySegment index) {
        try { disposeIndex.invokeExact(index); } catch (Throwable t) { throw fail(t); }
    }

    /** Parses {@code file} (whose contents may be given as an unsaved file) and returns the CXTranslationUnit. */
    MemorySegment parse(MemorySegment index, String file, String contents, List<String> args, int options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment argv = a.allocate(ADDRESS, args.size());
            for (int i = 0; i < args.size(); i++) argv.setAtIndex(ADDRESS, i, a.allocateFrom(args.get(i)));
            MemorySegment unsaved = MemorySegment.NULL;
            int nUnsaved = 0;
            if (contents != null) {
                unsaved = a.allocate(UNSAVED);
                MemorySegment text = a.allocateFrom(contents);
                unsaved.set(ADDRESS, 0, a.allocateFrom(file));
                unsaved.set(ADDRESS, 8, text);
                unsaved.set(JAVA_LONG, 16, text.byteSize() - 1);
                nUnsaved = 1;
            }
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) parseTU.invokeExact(index, a.allocateFrom(file), argv, args.size(), unsaved, nUnsaved,
                    options, out);
            if (rc != 0) throw new IllegalStateException("clang_parseTranslationUnit2 failed with CXErrorCode " + rc
                    + " for " + file);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw fail(t); }
    }

    void disposeTU(MemorySegment tu) {
        try { disposeTU.invokeExact(tu); } catch (Throwable t) { throw fail(t); }
    }

    /** Diagnostics of severity error or fatal, formatted. */
    List<String> errors(MemorySegment tu) {
        List<String> out = new ArrayList<>();
        try {
            int n = (int) numDiagnostics.invokeExact(tu);
            int opts = (int) defaultDiagnosticOptions.invokeExact();
            for (int i = 0; i < n; i++) {
                MemorySegment d = (MemorySegment) getDiagnostic.invokeExact(tu, i);
                int sev = (int) diagnosticSeverity.invokeExact(d);
                if (sev >= 3) out.add(string((MemorySegment) formatDiagnostic.invokeExact(alloc(), d, opts)));
                disposeDiagnostic.invokeExact(d);
            }
        } catch (Throwable t) { throw fail(t); }
        return out;
    }

    MemorySegment tuCursor(MemorySegment tu) {
        try { return (MemorySegment) tuCursor.invokeExact(alloc(), tu); } catch (Throwable t) { throw fail(t); }
    }

    /** Allocator for by-value results; arena-backed so cursors and types stay valid for the whole run. */
    private java.lang.foreign.SegmentAllocator alloc() {
        return arena;
    }

    // ---- cursors

    /** The direct children of {@code cursor}, in source order. */
    List<MemorySegment> children(MemorySegment cursor) {
        List<MemorySegment> out = new ArrayList<>();
        SINK.set(out);
        SINK_ARENA.set(arena);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment stub = linker.upcallStub(VISIT_UPCALL,
                    FunctionDescriptor.of(JAVA_INT, CURSOR, CURSOR, ADDRESS), a);
            int ignored = (int) visitChildren.invokeExact(cursor, stub, MemorySegment.NULL);
        } catch (Throwable t) {
            throw fail(t);
        } finally {
            SINK.remove();
            SINK_ARENA.remove();
        }
        return out;
    }

    private static int visit(MemorySegment cursor, MemorySegment parent, MemorySegment data) {
        MemorySegment copy = SINK_ARENA.get().allocate(CURSOR);
        copy.copyFrom(cursor);
        SINK.get().add(copy);
        return 1; // CXChildVisit_Continue
    }

    int kind(MemorySegment cursor) {
        try { return (int) cursorKind.invokeExact(cursor); } catch (Throwable t) { throw fail(t); }
    }

    String spelling(MemorySegment cursor) {
        try { return string((MemorySegment) cursorSpelling.invokeExact(alloc(), cursor)); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment type(MemorySegment cursor) {
        try { return (MemorySegment) cursorType.invokeExact(alloc(), cursor); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment typedefUnderlying(MemorySegment cursor) {
        try { return (MemorySegment) typedefUnderlying.invokeExact(alloc(), cursor); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment enumIntegerType(MemorySegment cursor) {
        try { return (MemorySegment) enumIntegerType.invokeExact(alloc(), cursor); } catch (Throwable t) { throw fail(t); }
    }

    long fieldOffsetBits(MemorySegment cursor) {
        try { return (long) offsetOfField.invokeExact(cursor); } catch (Throwable t) { throw fail(t); }
    }

    boolean isBitField(MemorySegment cursor) {
        try { return (int) isBitField.invokeExact(cursor) != 0; } catch (Throwable t) { throw fail(t); }
    }

    long enumValue(MemorySegment cursor) {
        try { return (long) enumConstantValue.invokeExact(cursor); } catch (Throwable t) { throw fail(t); }
    }

    boolean isAnonymous(MemorySegment cursor) {
        try { return (int) isAnonymous.invokeExact(cursor) != 0; } catch (Throwable t) { throw fail(t); }
    }

    boolean isDefinition(MemorySegment cursor) {
        try { return (int) isDefinition.invokeExact(cursor) != 0; } catch (Throwable t) { throw fail(t); }
    }

    boolean isMacroFunctionLike(MemorySegment cursor) {
        try { return (int) isMacroFunctionLike.invokeExact(cursor) != 0; } catch (Throwable t) { throw fail(t); }
    }

    int numArguments(MemorySegment cursor) {
        try { return (int) numArguments.invokeExact(cursor); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment argument(MemorySegment cursor, int i) {
        try { return (MemorySegment) getArgument.invokeExact(alloc(), cursor, i); } catch (Throwable t) { throw fail(t); }
    }

    int storageClass(MemorySegment cursor) {
        try { return (int) storageClass.invokeExact(cursor); } catch (Throwable t) { throw fail(t); }
    }

    /** File, line, column and offset of the cursor; file is "" for builtins. */
    record Location(String file, int line, int column, int offset) {}

    Location location(MemorySegment cursor) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment loc = (MemorySegment) cursorLocation.invokeExact((java.lang.foreign.SegmentAllocator) a, cursor);
            MemorySegment file = a.allocate(ADDRESS);
            MemorySegment line = a.allocate(JAVA_INT), col = a.allocate(JAVA_INT), off = a.allocate(JAVA_INT);
            fileLocation.invokeExact(loc, file, line, col, off);
            MemorySegment f = file.get(ADDRESS, 0);
            String name = f.equals(MemorySegment.NULL) ? ""
                    : string((MemorySegment) fileName.invokeExact((java.lang.foreign.SegmentAllocator) a, f));
            return new Location(name, line.get(JAVA_INT, 0), col.get(JAVA_INT, 0), off.get(JAVA_INT, 0));
        } catch (Throwable t) { throw fail(t); }
    }

    /** Result of clang_Cursor_Evaluate. */
    sealed interface Eval permits IntEval, FloatEval, StrEval, NoEval {}
    record IntEval(long value, boolean unsigned) implements Eval {}
    record FloatEval(double value) implements Eval {}
    record StrEval(String value) implements Eval {}
    record NoEval() implements Eval {}

    Eval evaluate(MemorySegment cursor) {
        try {
            MemorySegment r = (MemorySegment) evaluate.invokeExact(cursor);
            if (r.equals(MemorySegment.NULL)) return new NoEval();
            try {
                int k = (int) evalKind.invokeExact(r);
                return switch (k) {
                    case EVAL_INT -> {
                        boolean u = (int) evalIsUnsigned.invokeExact(r) != 0;
                        yield new IntEval(u ? (long) evalUnsigned.invokeExact(r) : (long) evalLongLong.invokeExact(r), u);
                    }
                    case EVAL_FLOAT -> new FloatEval((double) evalDouble.invokeExact(r));
                    case EVAL_STR_LITERAL -> new StrEval(((MemorySegment) evalStr.invokeExact(r))
                            .reinterpret(Long.MAX_VALUE).getString(0));
                    default -> new NoEval();
                };
            } finally {
                evalDispose.invokeExact(r);
            }
        } catch (Throwable t) { throw fail(t); }
    }

    // ---- types

    int typeKind(MemorySegment type) {
        return type.get(JAVA_INT, 0);
    }

    String typeSpelling(MemorySegment type) {
        try { return string((MemorySegment) typeSpelling.invokeExact(alloc(), type)); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment canonical(MemorySegment type) {
        try { return (MemorySegment) canonicalType.invokeExact(alloc(), type); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment pointee(MemorySegment type) {
        try { return (MemorySegment) pointeeType.invokeExact(alloc(), type); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment resultType(MemorySegment type) {
        try { return (MemorySegment) resultType.invokeExact(alloc(), type); } catch (Throwable t) { throw fail(t); }
    }

    int numArgTypes(MemorySegment type) {
        try { return (int) numArgTypes.invokeExact(type); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment argType(MemorySegment type, int i) {
        try { return (MemorySegment) argType.invokeExact(alloc(), type, i); } catch (Throwable t) { throw fail(t); }
    }

    boolean isVariadic(MemorySegment type) {
        try { return (int) isVariadic.invokeExact(type) != 0; } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment declaration(MemorySegment type) {
        try { return (MemorySegment) typeDeclaration.invokeExact(alloc(), type); } catch (Throwable t) { throw fail(t); }
    }

    MemorySegment elementType(MemorySegment type) {
        try { return (MemorySegment) arrayElementType.invokeExact(alloc(), type); } catch (Throwable t) { throw fail(t); }
    }

    long arraySize(MemorySegment type) {
        try { return (long) arraySize.invokeExact(type); } catch (Throwable t) { throw fail(t); }
    }

    long sizeOf(MemorySegment type) {
        try { return (long) sizeOf.invokeExact(type); } catch (Throwable t) { throw fail(t); }
    }

    long alignOf(MemorySegment type) {
        try { return (long) alignOf.invokeExact(type); } catch (Throwable t) { throw fail(t); }
    }

    // ---- strings

    private String string(MemorySegment cxString) {
        try {
            MemorySegment p = (MemorySegment) getCString.invokeExact(cxString);
            String s = p.equals(MemorySegment.NULL) ? "" : p.reinterpret(Long.MAX_VALUE).getString(0);
            disposeString.invokeExact(cxString);
            return s;
        } catch (Throwable t) { throw fail(t); }
    }
}
