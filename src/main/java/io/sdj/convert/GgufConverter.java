package io.sdj.convert;

import io.sdj.InvalidParameterException;
import io.sdj.family.TensorTypeRule;
import io.sdj.model.DType;
import io.sdj.model.GgufWriter;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.TypeConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a tensor source to a GGUF file the way stable-diffusion.cpp's {@code -M convert} does (as of commit
 * 97d2990): no key/values, names unchanged, tensors sorted by name, sd.cpp's unused tensors (position ids, EMA
 * bookkeeping, the extra DDPM schedules) left out, F64 stored as F32 and I64 as I32, and each tensor converted to
 * the target type unless sd.cpp's rule keeps it (see {@link #converts}). Quantization is ggml's own, with the
 * all-ones importance matrix sd.cpp passes, so the bytes are the ones sd.cpp writes.
 */
public final class GgufConverter {
    private static final Logger LOG = LoggerFactory.getLogger(GgufConverter.class);

    /** Name prefixes sd.cpp never loads, and so never writes. */
    static final List<String> UNUSED_PREFIXES = List.of("betas", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
            "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
            "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
            "posterior_mean_coef1", "posterior_mean_coef2",
            "cond_stage_model.transformer.text_model.embeddings.position_ids",
            "cond_stage_model.1.model.text_model.embeddings.position_ids",
            "cond_stage_model.transformer.vision_model.embeddings.position_ids", "cond_stage_model.model.logit_scale",
            "conditioner.embedders.0.transformer.text_model.embeddings.position_ids",
            "conditioner.embedders.0.model.logit_scale", "conditioner.embedders.1.model.logit_scale",
            "model.diffusion_model.time_embedding.cond_proj.weight", "unet.time_embedding.cond_proj.weight",
            "model_ema.decay", "model_ema.num_updates", "model_ema.diffusion_model", "embedding_manager",
            "denoiser.sigmas");

    /** Name fragments whose tensors sd.cpp never converts (conditioning inputs, embeddings, final layers). */
    private static final List<String> KEPT_FRAGMENTS = List.of("img_in.", "txt_in.", "time_in.", "vector_in.",
            "guidance_in.", "final_layer.", "x_embedder.", "t_embedder.", "y_embedder.", "pos_embed",
            "context_embedder.", "time_embed.", "label_emb.", "embedding");

    /** What a conversion wrote. */
    public record Result(Path file, int tensors, Map<DType, Integer> types, long bytes) {
        public Result {
            types = Collections.unmodifiableMap(new EnumMap<>(types));
        }
    }

    /** One planned tensor: where it comes from and the type it is written in. */
    public record Planned(TensorInfo source, DType stored, DType written) {
    }

    private GgufConverter() {
    }

    /** True for the tensors sd.cpp skips as unused. */
    public static boolean isUnused(String name) {
        for (String p : UNUSED_PREFIXES) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * sd.cpp's rule for converting one tensor to {@code target}: not when a quantized target's block does not divide
     * the row, not for {@code .bias} and {@code .scale} tensors, not for names with one of the kept fragments
     * ({@code time_embed.}, {@code embedding}, ...); otherwise yes. (Convolution kernels keep their type under
     * quantized targets because their row, the kernel width, is never a block multiple.)
     *
     * @param rowLength the innermost dimension (ggml's ne[0])
     */
    public static boolean converts(String name, long rowLength, GgmlType target) {
        if (target == null) {
            return false;
        }
        if (target.isQuantized() && rowLength % target.blockSize() != 0) {
            return false;
        }
        if (name.endsWith(".bias") || name.endsWith(".scale")) {
            return false;
        }
        for (String f : KEPT_FRAGMENTS) {
            if (name.contains(f)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The tensors that will be written, in file order (sorted by the names' UTF-8 bytes, as sd.cpp's std::map
     * orders them), with the types chosen.
     *
     * @param target the --type, or null to keep the file's types
     * @throws ModelFormatException for a tensor whose type GGUF cannot hold (U8, BOOL)
     */
    public static List<Planned> plan(TensorSource src, GgmlType target) {
        return plan(src, target, List.of());
    }

    /**
     * {@link #plan(TensorSource, GgmlType)} with sd-cli's --tensor-type-rules: the first rule whose pattern is found
     * in a tensor's name gives its target instead of {@code target}; sd.cpp's rule on what converts still applies.
     */
    public static List<Planned> plan(TensorSource src, GgmlType target, List<TensorTypeRule> rules) {
        List<Planned> out = new ArrayList<>();
        for (TensorInfo t : src.tensors().values()) {
            if (isUnused(t.name())) {
                continue;
            }
            DType stored = switch (t.dtype()) {
                case F64 -> DType.F32;
                case I64 -> DType.I32;
                case U8, BOOL -> throw new ModelFormatException(src.path(), t.name(), "has dtype " + t.dtype()
                        + ", which GGUF cannot hold");
                default -> t.dtype();
            };
            if (t.rank() > 4) {
                throw new ModelFormatException(src.path(), t.name(), "has " + t.rank()
                        + " dimensions; GGUF holds at most 4");
            }
            long row = t.rank() == 0 ? 1 : t.dim(t.rank() - 1);
            boolean floating = stored == DType.F32 || stored == DType.F16 || stored == DType.BF16 || stored.isQuantized();
            GgmlType to = target;
            for (TensorTypeRule r : rules) {
                if (r.matches(t.name())) {
                    to = r.type();
                    break;
                }
            }
            DType written = floating && converts(t.name(), row, to) ? DType.valueOf(to.name()) : stored;
            out.add(new Planned(t, stored, written));
        }
        out.sort((a, b) -> Arrays.compareUnsigned(a.source.name().getBytes(StandardCharsets.UTF_8),
                b.source.name().getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    /**
     * Converts {@code src} into a GGUF file at {@code out}.
     *
     * @param target the --type, or null to keep the file's types
     * @throws InvalidParameterException if {@code target} is not a weight type
     * @throws ModelFormatException      for a tensor that cannot be read or converted
     */
    public static Result convert(TensorSource src, Path out, GgmlType target) {
        return convert(src, out, target, List.of());
    }

    /** {@link #convert(TensorSource, Path, GgmlType)} with --tensor-type-rules (see {@link #plan(TensorSource, GgmlType, List)}). */
    public static Result convert(TensorSource src, Path out, GgmlType target, List<TensorTypeRule> rules) {
        if (target != null && !(target == GgmlType.F32 || target == GgmlType.F16 || target == GgmlType.BF16
                || target.isQuantized())) {
            throw new InvalidParameterException("--type", target.cliName() + " is not a weight type");
        }
        List<Planned> plan = plan(src, target, rules);
        GgufWriter w = new GgufWriter();
        Map<DType, Integer> types = new EnumMap<>(DType.class);
        int[] done = {0};
        for (Planned p : plan) {
            types.merge(p.written, 1, Integer::sum);
            w.add(p.source.name(), p.written, p.source.shape(), dst -> {
                fill(src, p, dst);
                if (++done[0] % 100 == 0) {
                    LOG.info("converted {}/{} tensors", done[0], plan.size());
                }
            });
        }
        long bytes = w.write(out);
        LOG.info("wrote {} ({} tensors, {} bytes): {}", out, plan.size(), bytes, types);
        return new Result(out, plan.size(), types, bytes);
    }

    /** Reads one tensor and writes it in its planned type into {@code dst}. */
    private static void fill(TensorSource src, Planned p, MemorySegment dst) {
        TensorInfo t = p.source;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment raw = scratch.allocate(Math.max(1, t.byteSize()), 64).asSlice(0, t.byteSize());
            src.read(t, raw);
            MemorySegment stored = narrow(raw, t.dtype(), p.stored, t.elementCount(), scratch);
            if (p.stored == p.written) {
                MemorySegment.copy(stored, 0, dst, 0, dst.byteSize());
                return;
            }
            long row = t.rank() == 0 ? 1 : t.dim(t.rank() - 1);
            long rows = row == 0 ? 0 : t.elementCount() / row;
            if (rows > 0) {
                TypeConverter.convert(stored, GgmlType.valueOf(p.stored.name()), dst,
                        GgmlType.valueOf(p.written.name()), rows, row, scratch);
            }
        }
    }

    private static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** F64 to F32 and I64 to I32 (sd.cpp's casts); any other type passes through. */
    private static MemorySegment narrow(MemorySegment raw, DType from, DType to, long n, Arena scratch) {
        if (from == to) {
            return raw;
        }
        MemorySegment out = scratch.allocate(Math.max(1, 4 * n), 64).asSlice(0, 4 * n);
        for (long i = 0; i < n; i++) {
            if (from == DType.F64) {
                out.setAtIndex(LE_FLOAT, i, (float) raw.getAtIndex(LE_DOUBLE, i));
            } else {
                out.setAtIndex(LE_INT, i, (int) raw.getAtIndex(LE_LONG, i));
            }
        }
        return out;
    }
}
