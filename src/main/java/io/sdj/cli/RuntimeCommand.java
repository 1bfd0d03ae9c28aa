package io.sdj.cli;

import io.sdj.runtime.UserRuntime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code sdj runtime install [--cuda] [--update-lock]} provisions the per-user ggml runtime
 * ({@link UserRuntime#home()}) from Debian's packages with the tooling bundled in the jar;
 * {@code sdj runtime path} prints that folder and its launcher. Neither loads ggml.
 */
final class RuntimeCommand {
    private RuntimeCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.contains("-h") || args.contains("--help")) {
            out.print(help());
            out.flush();
            return args.isEmpty() ? Main.EXIT_USAGE : Main.EXIT_OK;
        }
        Path home = UserRuntime.home();
        switch (args.getFirst()) {
            case "path" -> {
                out.println("runtime:  " + home + (Files.isRegularFile(home.resolve("prefix/runtime.env"))
                        ? "" : " (not installed: run 'sdj runtime install')"));
                out.println("launcher: " + UserRuntime.launcher());
                out.flush();
                return Main.EXIT_OK;
            }
            case "install" -> {
                boolean cuda = false;
                boolean update = false;
                for (String a : args.subList(1, args.size())) {
                    switch (a) {
                        case "--cuda" -> cuda = true;
                        case "--update-lock" -> update = true;
                        default -> {
                            err.println("sdj: error: unknown option '" + a + "' for 'sdj runtime install' "
                                    + "(expected --cuda or --update-lock)");
                            return Main.EXIT_USAGE;
                        }
                    }
                }
                return install(home, cuda, update, out, err);
            }
            default -> {
                err.println("sdj: error: unknown runtime command '" + args.getFirst() + "' (expected install or path)");
                return Main.EXIT_USAGE;
            }
        }
    }

    private static int install(Path home, boolean cuda, boolean update, PrintStream out, PrintStream err) {
        List<String> cmd;
        try {
            cmd = UserRuntime.prepare(home, cuda, update);
        } catch (RuntimeException e) {
            err.println("sdj: error: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
        err.println("sdj: provisioning the ggml runtime into " + home.resolve("prefix"));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("SDJ_PREFIX", home.resolve("prefix").toString());
        pb.environment().put("SDJ_NATIVE_CACHE", home.resolve(".cache").toString());
        try {
            int rc = pb.start().waitFor();
            if (rc != 0) {
                err.println("sdj: error: provisioning failed (exit status " + rc + "); see the lines above");
                return Main.EXIT_FAILURE;
            }
        } catch (IOException e) {
            err.println("sdj: error: cannot run " + String.join(" ", cmd) + ": " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.EXIT_FAILURE;
        }
        out.println("runtime:  " + home);
        out.println("launcher: " + UserRuntime.launcher() + "  (start any java command through it, e.g. "
                + UserRuntime.launcher() + " -cp app.jar my.Main)");
        out.flush();
        return Main.EXIT_OK;
    }

    static String help() {
        return """
                usage: sdj runtime install [--cuda] [--update-lock]
                       sdj runtime path

                install   provision ggml from Debian's packages (pinned in the bundled runtime.lock) into the
                          per-user runtime folder; --cuda adds the CUDA backend, --update-lock re-pins
                path      print the per-user runtime folder and its java launcher
                The folder is $XDG_CACHE_HOME/sdj/runtime/<ggml version> (~/.cache/... by default), or
                $SDJ_RUNTIME_HOME. sdj finds the runtime there when SDJ_GGML_PATH is not set.
                """;
    }
}
