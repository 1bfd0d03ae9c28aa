package io.sdj.cli;

import io.sdj.runtime.UserRuntime;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sdj runtime ...}: the subcommand is recognised before the generation flags and never loads ggml. */
class RuntimeCommandTest {
    private record Result(int status, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void pathNamesTheFolderAndLauncher() {
        Result r = run("runtime", "path");
        assertEquals(Main.EXIT_OK, r.status(), r.err());
        assertTrue(r.out().contains(UserRuntime.home().toString()), r.out());
        assertTrue(r.out().contains("launcher: " + UserRuntime.launcher()), r.out());
    }

    @Test
    void wrongUseIsAUsageError() {
        Result unknown = run("runtime", "frobnicate");
        assertEquals(Main.EXIT_USAGE, unknown.status());
        assertTrue(unknown.err().contains("unknown runtime command 'frobnicate'"), unknown.err());
        Result badOption = run("runtime", "install", "--gpu");
        assertEquals(Main.EXIT_USAGE, badOption.status());
        assertTrue(badOption.err().contains("unknown option '--gpu'"), badOption.err());
        Result help = run("runtime", "--help");
        assertEquals(Main.EXIT_OK, help.status());
        assertTrue(help.out().contains("sdj runtime install"), help.out());
    }
}
