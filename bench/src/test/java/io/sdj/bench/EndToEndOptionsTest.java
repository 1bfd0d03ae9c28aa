package io.sdj.bench;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.BlasUse;
import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndToEndOptionsTest {

    @Test
    void defaultsAreTheStandardCase() {
        EndToEndOptions o = EndToEndOptions.parse();
        assertEquals(Path.of(EndToEndOptions.DEFAULT_MODEL), o.model());
        assertEquals(Path.of(EndToEndOptions.DEFAULT_TOKENIZER), o.tokenizer());
        assertEquals(List.of("f16", "q4_0"), o.types());
        assertEquals(List.of("cpu"), o.backends());
        assertEquals(256, o.width());
        assertEquals(256, o.height());
        assertEquals(4, o.steps());
        assertEquals("euler_a", o.sampler());
        assertEquals(7f, o.cfg());
        assertEquals(3, o.reps());
        assertEquals(2, o.threads());
        assertNull(o.compare());
        assertFalse(o.verbose());
    }

    @Test
    void parsesBothSpellingsAndLists() {
        EndToEndOptions o = EndToEndOptions.parse("--type", "q8_0, f16,file", "--backend=cpu,vulkan", "--width=128",
                "--height", "64", "--cfg", "4.5", "--prompt", "a dog --not an option", "--compare", "sd -m {model}",
                "--jvm-args", " -Xmx2g  -XX:+UseSerialGC ", "--verbose");
        assertEquals(List.of("q8_0", "f16", "file"), o.types());
        assertEquals(List.of("cpu", "vulkan"), o.backends());
        assertEquals(128, o.width());
        assertEquals(64, o.height());
        assertEquals(4.5f, o.cfg());
        assertEquals("a dog --not an option", o.prompt());
        assertEquals("sd -m {model}", o.compare());
        assertEquals(List.of("-Xmx2g", "-XX:+UseSerialGC"), o.jvmArgs());
        assertTrue(o.verbose());
    }

    @Test
    void configurationsPutTheFirstTypeFirst() {
        EndToEndOptions o = EndToEndOptions.parse("--type", "F16,q4_0", "--backend", "cpu,Vulkan");
        assertEquals(List.of(new Configuration("f16", "cpu"), new Configuration("f16", "vulkan"),
                new Configuration("q4_0", "cpu"), new Configuration("q4_0", "vulkan")), o.configurations());
        assertEquals("q4_0/vulkan", o.configurations().getLast().label());
    }

    @Test
    void fileTypeKeepsTheCheckpointTypes() {
        assertNull(EndToEndOptions.weightType("file"));
        assertEquals(io.sdj.runtime.GgmlType.Q4_0, EndToEndOptions.weightType("q4_0"));
        assertNull(EndToEndOptions.diffusionConvType("q4_0"));
        assertEquals(io.sdj.runtime.GgmlType.Q4_0, EndToEndOptions.weightType("q4_0+conv=q8_0"));
        assertEquals(io.sdj.runtime.GgmlType.Q8_0, EndToEndOptions.diffusionConvType("q4_0+conv=q8_0"));
        assertNull(EndToEndOptions.weightType("file+conv=q4_0"));
        assertThrows(io.sdj.InvalidParameterException.class, () -> EndToEndOptions.weightType("q4_0+conv=q9"));
    }

    @Test
    void blasSuffixesSetBlasAndLeaveTheTypes() {
        assertEquals(BlasUse.UNQUANTIZED, EndToEndOptions.blas("f16"));
        assertEquals(BlasUse.OFF, EndToEndOptions.blas("f16+noblas"));
        assertEquals(BlasUse.ALL, EndToEndOptions.blas("q4_0+blasall"));
        assertEquals(GgmlType.Q4_0, EndToEndOptions.weightType("q4_0+blasall"));
        assertEquals(io.sdj.runtime.GgmlType.F16, EndToEndOptions.weightType("f16+noblas"));
        assertNull(EndToEndOptions.diffusionConvType("f16+noblas"));
        assertEquals(io.sdj.runtime.GgmlType.Q8_0, EndToEndOptions.diffusionConvType("q4_0+conv=q8_0+noblas"));
        assertEquals(BlasUse.UNQUANTIZED, EndToEndOptions.blas("q4_0+conv=q8_0"));
        EndToEndOptions o = EndToEndOptions.parse("--type", "f16,f16+noblas");
        assertEquals(2, o.configurations().size());
    }

    /** bench/ab.sh varies JVM arguments: an entry without a suffix takes sdj's default, which sdj.blas sets. */
    @Test
    void anEntryWithoutSuffixFollowsTheBlasProperty() {
        String before = System.getProperty("sdj.blas");
        try {
            System.setProperty("sdj.blas", "all");
            assertEquals(BlasUse.ALL, EndToEndOptions.blas("q4_0"));
            assertEquals(BlasUse.OFF, EndToEndOptions.blas("q4_0+noblas"));
            System.setProperty("sdj.blas", "false");
            assertEquals(BlasUse.OFF, EndToEndOptions.blas("f16"));
            assertEquals(BlasUse.ALL, EndToEndOptions.blas("f16+blasall"));
            assertEquals(GgmlType.Q4_0, EndToEndOptions.weightType("q4_0"));
        } finally {
            if (before == null) {
                System.clearProperty("sdj.blas");
            } else {
                System.setProperty("sdj.blas", before);
            }
        }
    }

    @Test
    void badInputNamesTheOption() {
        assertEquals("type", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--type", "q5")).parameter());
        assertEquals("sampling-method", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--sampler", "nope")).parameter());
        assertEquals("steps", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--steps", "x")).parameter());
        assertEquals("reps", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--reps", "0")).parameter());
        assertEquals("width/height", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--width", "250")).parameter());
        assertEquals("--frobnicate", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--frobnicate", "1")).parameter());
        assertEquals("steps", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--steps")).parameter());
        assertEquals("compare", assertThrows(InvalidParameterException.class,
                () -> EndToEndOptions.parse("--compare", " ")).parameter());
        assertThrows(EndToEndOptions.HelpRequested.class, () -> EndToEndOptions.parse("--help"));
    }

    @Test
    void missingModelSaysHowToMakeIt() {
        EndToEndOptions o = EndToEndOptions.parse("--model", "/nonexistent/m.safetensors");
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> EndToEnd.requireInputs(o));
        assertEquals("model", e.parameter());
        assertTrue(e.getMessage().contains("make model"), e.getMessage());
        assertTrue(e.getMessage().contains("/nonexistent/m.safetensors"), e.getMessage());
    }
}
