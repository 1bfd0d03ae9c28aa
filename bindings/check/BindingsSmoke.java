import io.sdj.ggml.ggml_backend_dev_props;
import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_init_params;
import io.sdj.ggml.ggml_log_callback;
import io.sdj.ggml.ggml_tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Smoke check of the generated ggml bindings against the real libraries: System.load + loaderLookup symbol
 * resolution, a struct passed by value, tensor field access, an upcall (log callback) and ggml-backend.h calls.
 * Exits non-zero with a message on the first mismatch. Arguments: the ggml library directory and the backend
 * directory (default: the sdj.ggml.path / sdj.ggml.backends properties set by native/bin/java).
 */
public final class BindingsSmoke {
    public static void main(String[] args) {
        Path lib = Path.of(args.length > 0 ? args[0] : System.getProperty("sdj.ggml.path"));
        Path backends = Path.of(args.length > 1 ? args[1] : System.getProperty("sdj.ggml.backends", lib.toString()));
        // the runtime layer's job: load the libraries into this class loader before the first ggml_h call
        for (String name : new String[] {"libggml-base.so.0", "libggml.so.0"}) {
            Path p = lib.resolve(name);
            if (!Files.isRegularFile(p)) fail("missing " + p);
            System.load(p.toString());
        }
        try (Arena arena = Arena.ofConfined()) {
            AtomicInteger logLines = new AtomicInteger();
            MemorySegment cb = ggml_log_callback.allocate((level, text, user) -> logLines.incrementAndGet(), arena);
            ggml_h.ggml_log_set(cb, MemorySegment.NULL);

            MemorySegment params = ggml_init_params.allocate(arena);
            ggml_init_params.mem_size(params, 16L << 20);
            ggml_init_params.mem_buffer(params, MemorySegment.NULL);
            ggml_init_params.no_alloc(params, false);
            check(ggml_init_params.sizeof() == 24, "sizeof(ggml_init_params) " + ggml_init_params.sizeof());
            check(ggml_tensor.sizeof() == 336, "sizeof(ggml_tensor) " + ggml_tensor.sizeof());
            check(ggml_tensor.ne$offset() == 16 && ggml_tensor.nb$offset() == 48 && ggml_tensor.op$offset() == 80
                    && ggml_tensor.op_params$offset() == 84 && ggml_tensor.src$offset() == 152
                    && ggml_tensor.data$offset() == 248 && ggml_tensor.name$offset() == 256, "ggml_tensor offsets");

            MemorySegment ctx = ggml_h.ggml_init(params);
            check(!ctx.equals(MemorySegment.NULL), "ggml_init returned NULL");
            MemorySegment t = ggml_h.ggml_new_tensor_2d(ctx, ggml_h.GGML_TYPE_F32(), 2, 3)
                    .reinterpret(ggml_tensor.sizeof());
            check(ggml_tensor.ne(t, 0) == 2 && ggml_tensor.ne(t, 1) == 3 && ggml_tensor.ne(t, 2) == 1,
                    "ne = " + ggml_tensor.ne(t, 0) + "," + ggml_tensor.ne(t, 1) + "," + ggml_tensor.ne(t, 2));
            check(ggml_tensor.nb(t, 0) == 4 && ggml_tensor.nb(t, 1) == 8, "nb");
            check(ggml_tensor.type(t) == ggml_h.GGML_TYPE_F32(), "type");
            check(ggml_h.ggml_nelements(t) == 6, "ggml_nelements");
            ggml_h.ggml_set_name(t, arena.allocateFrom("smoke"));
            check(ggml_tensor.name(t).getString(0).equals("smoke"), "name");
            check(ggml_tensor.name(t, 0) == 's', "name[0]");
            MemorySegment data = ggml_tensor.data(t).reinterpret(6 * 4);
            data.setAtIndex(ggml_h.C_FLOAT, 5, 2.5f);
            check(ggml_h.ggml_nbytes(t) == 24, "ggml_nbytes");
            check(ggml_h.ggml_get_data_f32(t).reinterpret(24).getAtIndex(ggml_h.C_FLOAT, 5) == 2.5f, "ggml_get_data_f32");
            check(ggml_h.GGML_MAX_DIMS() == 4, "GGML_MAX_DIMS");
            check(ggml_h.GGUF_MAGIC().getString(0).equals("GGUF"), "GGUF_MAGIC");
            ggml_h.ggml_free(ctx);

            ggml_h.ggml_backend_load_all_from_path(arena.allocateFrom(backends.toString()));
            long n = ggml_h.ggml_backend_dev_count();
            check(n >= 1, "ggml_backend_dev_count() = " + n);
            MemorySegment props = ggml_backend_dev_props.allocate(arena);
            for (long i = 0; i < n; i++) {
                MemorySegment dev = ggml_h.ggml_backend_dev_get(i);
                String name = ggml_h.ggml_backend_dev_name(dev).getString(0);
                ggml_h.ggml_backend_dev_get_props(dev, props);
                String propName = ggml_backend_dev_props.name(props).getString(0);
                check(name.equals(propName), "props.name " + propName + " vs " + name);
                System.out.printf("device %d: %s (%s), type %d, %d MiB total%n", i, name,
                        ggml_h.ggml_backend_dev_description(dev).getString(0), ggml_backend_dev_props.type(props),
                        ggml_backend_dev_props.memory_total(props) >> 20);
            }
            ggml_h.ggml_log_set(MemorySegment.NULL, MemorySegment.NULL);
            System.out.println("log callback lines: " + logLines.get());
        }
        System.out.println("BindingsSmoke OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) fail(what);
    }

    private static void fail(String why) {
        System.err.println("BindingsSmoke FAILED: " + why);
        System.exit(1);
    }
}
