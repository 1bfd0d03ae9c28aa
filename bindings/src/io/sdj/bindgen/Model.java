package io.sdj.bindgen;

import java.util.List;

/** The C declarations the generator emits, reduced to what the Java shape needs. */
final class Model {
    private Model() {}

    /** A C type as the bindings see it. */
    sealed interface CType permits Prim, Ptr, Record, Array, Void, Unsupported {}

    /** A scalar: its layout constant in the header class, Java carrier and ValueLayout subtype. */
    record Prim(String layout, String carrier, String layoutType, long size) implements CType {}

    /** Any data or function pointer. */
    record Ptr() implements CType {}

    /** A struct or union passed or stored by value, bound to its generated class. */
    record Record(String className, long size) implements CType {}

    /** A fixed-size array (only as a struct field). */
    record Array(CType element, long count) implements CType {}

    /** The void return type. */
    record Void() implements CType {}

    /** Something the generator cannot express, with the reason. */
    record Unsupported(String why) implements CType {}

    static final Prim BOOL = new Prim("C_BOOL", "boolean", "OfBoolean", 1);
    static final Prim CHAR = new Prim("C_CHAR", "byte", "OfByte", 1);
    static final Prim SHORT = new Prim("C_SHORT", "short", "OfShort", 2);
    static final Prim INT = new Prim("C_INT", "int", "OfInt", 4);
    static final Prim LONG = new Prim("C_LONG", "long", "OfLong", 8);
    static final Prim LONG_LONG = new Prim("C_LONG_LONG", "long", "OfLong", 8);
    static final Prim FLOAT = new Prim("C_FLOAT", "float", "OfFloat", 4);
    static final Prim DOUBLE = new Prim("C_DOUBLE", "double", "OfDouble", 8);

    /** A named parameter. */
    record Param(String name, CType type) {}

    /** Declarations that live in the header class, in translation-unit order. */
    sealed interface HeaderDecl permits Function, Constant, TypedefLayout {
        String name();
    }

    /** A C function with a downcall handle. {@code csig} is the C prototype for the doc comment. */
    record Function(String name, CType ret, List<Param> params, String csig) implements HeaderDecl {}

    /**
     * An enum constant or object-like macro. {@code javaType} is int, long, float, double or String;
     * {@code literal} is the Java expression of the value (for String: the Java string literal).
     */
    record Constant(String name, String javaType, String literal, String comment) implements HeaderDecl {}

    /** {@code typedef} of a scalar or pointer: a layout constant such as {@code AddressLayout ggml_backend_t}. */
    record TypedefLayout(String name, String layoutType, String layout, String comment) implements HeaderDecl {}

    /** A struct or union field; offset in bytes. */
    record Field(String name, CType type, long offset, String ctext) {}

    /** A struct or union class. */
    record Struct(String className, boolean union, long size, long align, List<Field> fields, String comment) {}

    /** A typedef that names an existing struct under another name: {@code class name extends target}. */
    record StructAlias(String name, String target, String comment) {}

    /** A function-pointer typedef: a class with {@code Function}, {@code allocate} and {@code invoke}. */
    record FunctionPointer(String name, CType ret, List<Param> params, String comment) {}

    /** Everything parsed from the headers. */
    record Unit(List<HeaderDecl> header, List<Struct> structs, List<StructAlias> aliases,
                List<FunctionPointer> functionPointers, List<String> skipped) {}
}
