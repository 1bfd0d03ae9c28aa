package io.sdj.runtime;

import io.sdj.ggml.ggml_h;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper run in a separate JVM. {@code staged}: opens the CPU backend, prints the registered backends and the
 * CPU features, then lists the devices and prints the registered backends again. {@code ggml}: lets ggml register
 * every plugin of the folder itself ({@code ggml_backend_load_all_from_path}) and prints the CPU features.
 * {@code best}: opens the best device and prints the registered backends and the chosen one.
 */
public final class BackendPluginsProbe {
    public static void main(String[] args) {
        if (args[0].equals("ggml")) {
            GgmlLibrary.Location l = GgmlLibrary.load();
            try (Arena a = Arena.ofConfined()) {
                ggml_h.ggml_backend_load_all_from_path(a.allocateFrom(l.backendDir().toString()));
            }
            System.out.println("registered " + registered());
            System.out.println("features " + Backend.features(ggml_h.ggml_backend_reg_by_name(
                    Arena.global().allocateFrom("CPU"))));
            return;
        }
        if (args[0].equals("best")) {
            try (Backend best = Backend.open("best")) {
                System.out.println("registered " + registered());
                System.out.println("chosen " + best.device().backend());
            }
            return;
        }
        try (Backend cpu = Backend.open("cpu")) {
            System.out.println("registered " + registered());
            System.out.println("features " + cpu.features());
        }
        System.out.println("devices " + Backend.devices().size());
        System.out.println("registered " + registered());
    }

    private static List<String> registered() {
        List<String> names = new ArrayList<>();
        for (long i = 0; i < ggml_h.ggml_backend_reg_count(); i++) {
            names.add(Backend.str(ggml_h.ggml_backend_reg_name(ggml_h.ggml_backend_reg_get(i))));
        }
        return names;
    }
}
