package io.sdj.adapters;

import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.model.TensorSources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a LoRA adapter file (any tensor file form sdj opens: safetensors, GGUF, .ckpt) and maps its modules onto a
 * model's LDM weights with {@link LoraNames}. Recognized layouts:
 * <ul>
 *   <li>kohya / A1111 and LyCORIS LoCon: {@code lora_unet_<path>}, {@code lora_te_<path>} (SD 1.x/2.x),
 *       {@code lora_te1_}/{@code lora_te2_} (SDXL), each with {@code .lora_down.weight}, {@code .lora_up.weight}
 *       and an optional {@code .alpha} (or {@code .scale}); 3×3 conv downs [r, in, 3, 3] with 1×1 ups;</li>
 *   <li>diffusers / PEFT: {@code unet.<path>}, {@code text_encoder.<path>}, {@code text_encoder_2.<path>} with
 *       {@code .lora_A.weight} (down) and {@code .lora_B.weight} (up), no alpha (scale = multiplier). The
 *       text-encoder half is applied (sd.cpp drops it).</li>
 * </ul>
 * Anything else is refused: a tensor that matches no weight of the model, LoHa/LoKr/Tucker tensors (named as such),
 * shapes that do not fit the target, a rank that disagrees between down and up, a non-finite alpha or value. Each
 * refusal is a {@link ModelFormatException} naming the file and the tensor.
 */
public final class LoraFile {
    /** Largest rank accepted. */
    public static final int MAX_RANK = 1 << 14;

    private static final String DOWN = ".lora_down.weight";
    private static final String UP = ".lora_up.weight";
    private static final String PEFT_A = ".lora_A.weight";
    private static final String PEFT_B = ".lora_B.weight";
    private static final String ALPHA = ".alpha";
    private static final String SCALE = ".scale";
    private static final List<String> UNSUPPORTED = List.of(".hada_w1_a", ".hada_w1_b", ".hada_w2_a", ".hada_w2_b",
            ".hada_t1", ".hada_t2", ".lokr_w1", ".lokr_w2", ".lokr_w1_a", ".lokr_w1_b", ".lokr_w2_a", ".lokr_w2_b",
            ".lokr_t2", ".lora_mid.weight", ".diff", ".diff_b", ".dora_scale");

    private LoraFile() {
    }

    /** Tensors of one module as found in the file. */
    private static final class Parts {
        TensorInfo down;
        TensorInfo up;
        TensorInfo alpha;
        TensorInfo scale;
        String target;
        int part;
    }

    /**
     * Reads every module of a LoRA file for a model.
     *
     * @throws ModelFormatException naming the file and tensor for anything the file has that sdj cannot apply
     */
    public static List<LoraModule> read(Path file, LoraNames names) {
        try (TensorSource src = TensorSources.open(file)) {
            return read(src, names);
        }
    }

    /** {@link #read(Path, LoraNames)} over an open source. */
    public static List<LoraModule> read(TensorSource src, LoraNames names) {
        Path file = src.path();
        Map<String, Parts> modules = new TreeMap<>();
        List<String> unmatched = new ArrayList<>();
        for (TensorInfo t : src.tensors().values()) {
            String n = t.name();
            for (String u : UNSUPPORTED) {
                if (n.endsWith(u)) {
                    throw new ModelFormatException(file, n, "is a " + kind(u) + " tensor; sdj applies plain LoRA"
                            + " and LoCon (lora_down/lora_up, lora_A/lora_B) only");
                }
            }
            String suffix = suffix(n);
            if (suffix == null) {
                unmatched.add(n);
                continue;
            }
            String key = n.substring(0, n.length() - suffix.length());
            String target = target(key, names);
            if (target == null) {
                unmatched.add(n);
                continue;
            }
            Parts p = modules.computeIfAbsent(key, k -> new Parts());
            p.target = target;
            p.part = part(key, names);
            switch (suffix) {
                case DOWN, PEFT_A -> p.down = t;
                case UP, PEFT_B -> p.up = t;
                case ALPHA -> p.alpha = t;
                default -> p.scale = t;
            }
        }
        if (!unmatched.isEmpty()) {
            throw new ModelFormatException(file, unmatched.getFirst(), unmatched.size() + " tensor"
                    + (unmatched.size() == 1 ? "" : "s") + " match no weight of this " + names.familyName()
                    + " model: " + list(unmatched));
        }
        Map<String, String> byTarget = new HashMap<>();
        List<LoraModule> out = new ArrayList<>();
        for (Map.Entry<String, Parts> e : modules.entrySet()) {
            String key = e.getKey();
            Parts p = e.getValue();
            String other = byTarget.put(p.target + "#" + p.part, key);
            if (other != null) {
                throw new ModelFormatException(file, key, "patches " + p.target + ", which module " + other
                        + " of the same file patches too");
            }
            out.add(module(src, key, p, names));
        }
        if (out.isEmpty()) {
            throw new ModelFormatException(file, "has no LoRA tensors");
        }
        return out;
    }

    private static String kind(String suffix) {
        if (suffix.startsWith(".hada")) {
            return "LoHa";
        }
        if (suffix.startsWith(".lokr")) {
            return "LoKr";
        }
        if (suffix.equals(".lora_mid.weight")) {
            return "LoCon Tucker (lora_mid)";
        }
        return suffix.substring(1) + " (full-weight difference / DoRA)";
    }

    private static String suffix(String n) {
        for (String s : List.of(DOWN, UP, PEFT_A, PEFT_B, ALPHA, SCALE)) {
            if (n.endsWith(s)) {
                return s;
            }
        }
        return null;
    }

    /** The LDM weight of a module key, or null. */
    static String target(String key, LoraNames names) {
        String k = internalKey(key, names);
        return k == null ? null : k.indexOf('.') >= 0 ? names.dotted(k) : names.underscored(k);
    }

    /** The third of a fused projection a module key patches, or -1 (see {@link LoraNames#part}). */
    static int part(String key, LoraNames names) {
        String k = internalKey(key, names);
        return k == null ? -1 : names.part(k);
    }

    /** A file's module key in {@link LoraNames}' form ({@code unet_...}, {@code te1.text_model...}), or null. */
    private static String internalKey(String key, LoraNames names) {
        boolean sdxl = names.textEncoders() > 1;
        if (key.startsWith("lora_unet_")) {
            return "unet_" + key.substring("lora_unet_".length());
        }
        if (key.startsWith("lora_te1_") && sdxl) {
            return "te1_" + key.substring("lora_te1_".length());
        }
        if (key.startsWith("lora_te2_") && sdxl) {
            return "te2_" + key.substring("lora_te2_".length());
        }
        if (key.startsWith("lora_te_")) {
            return "te1_" + key.substring("lora_te_".length());
        }
        if (key.startsWith("unet.")) {
            return key;
        }
        if (key.startsWith("text_encoder_2.") && sdxl) {
            return "te2." + key.substring("text_encoder_2.".length());
        }
        if (key.startsWith("text_encoder.")) {
            return "te1." + key.substring("text_encoder.".length());
        }
        return null;
    }

    private static LoraModule module(TensorSource src, String key, Parts p, LoraNames names) {
        Path file = src.path();
        if (p.down == null || p.up == null) {
            TensorInfo have = p.down != null ? p.down : p.up != null ? p.up : p.alpha != null ? p.alpha : p.scale;
            throw new ModelFormatException(file, have.name(), "module " + key + " has no "
                    + (p.down == null ? "down (lora_down / lora_A)" : "up (lora_up / lora_B)") + " tensor");
        }
        long[] w = names.shape(p.target);
        if (p.part >= 0) { // a third of a fused q/k/v projection: [3h, h] → [h, h]
            w = new long[]{w[0] / 3, w[1]};
        }
        long[] ds = p.down.shape();
        long[] us = p.up.shape();
        checkType(file, p.down);
        checkType(file, p.up);
        if (ds.length != 2 && ds.length != 4) {
            throw new ModelFormatException(file, p.down.name(), "has shape " + p.down.shapeString()
                    + "; a LoRA down is [rank, in] or [rank, in, kh, kw]");
        }
        if (us.length != 2 && !(us.length == 4 && us[2] == 1 && us[3] == 1)) {
            throw new ModelFormatException(file, p.up.name(), "has shape " + p.up.shapeString()
                    + "; a LoRA up is [out, rank] or [out, rank, 1, 1]");
        }
        long rank = ds[0];
        if (rank < 1 || rank > MAX_RANK) {
            throw new ModelFormatException(file, p.down.name(), "has rank " + rank + "; sdj takes 1 to " + MAX_RANK);
        }
        if (us[1] != rank) {
            throw new ModelFormatException(file, p.up.name(), "has rank " + us[1] + " (shape " + p.up.shapeString()
                    + ") but its down " + p.down.name() + " has rank " + rank);
        }
        if (us[0] != w[0]) {
            throw new ModelFormatException(file, p.up.name(), "has " + us[0] + " outputs (shape "
                    + p.up.shapeString() + "); " + p.target + " " + TensorInfo.formatShape(w) + " has " + w[0]);
        }
        long in = 1;
        for (int i = 1; i < w.length; i++) {
            in *= w[i];
        }
        long downIn = 1;
        for (int i = 1; i < ds.length; i++) {
            downIn *= ds[i];
        }
        int kernel = ds.length == 4 ? Math.toIntExact(ds[2]) : 1;
        boolean pointwise = w.length == 2 || (w[2] == 1 && w[3] == 1);
        boolean fits = downIn == in && (ds.length == 2 ? pointwise
                : w.length == 4 ? ds[1] == w[1] && ds[2] == w[2] && ds[3] == w[3] : ds[2] == 1 && ds[3] == 1);
        if (!fits) {
            throw new ModelFormatException(file, p.down.name(), "has shape " + p.down.shapeString()
                    + ", which does not fit " + p.target + " " + TensorInfo.formatShape(w));
        }
        float alpha = scalar(src, p.alpha, "alpha");
        float scale = scalar(src, p.scale, "scale");
        float[] down = values(src, p.down);
        float[] up = values(src, p.up);
        DType type = p.down.dtype() == DType.F16 && p.up.dtype() == DType.F16 ? DType.F16 : DType.F32;
        return new LoraModule(key, p.target, p.part, (int) rank, down, up, kernel, alpha, scale, type);
    }

    private static void checkType(Path file, TensorInfo t) {
        if (!t.dtype().isWeightType()) {
            throw new ModelFormatException(file, t.name(), "has dtype " + t.dtype() + "; LoRA tensors are F16, BF16"
                    + " or F32");
        }
        if (t.elementCount() > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, t.name(), "has " + t.elementCount() + " elements, too many for a"
                    + " LoRA tensor");
        }
    }

    private static float scalar(TensorSource src, TensorInfo t, String what) {
        if (t == null) {
            return Float.NaN;
        }
        checkType(src.path(), t);
        if (t.elementCount() != 1) {
            throw new ModelFormatException(src.path(), t.name(), "has shape " + t.shapeString() + "; " + what
                    + " is a scalar");
        }
        float v = src.readFloats(t.name())[0];
        if (!Float.isFinite(v)) {
            throw new ModelFormatException(src.path(), t.name(), what + " is " + v + "; it must be a finite number");
        }
        return v;
    }

    private static float[] values(TensorSource src, TensorInfo t) {
        float[] v = src.readFloats(t.name());
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new ModelFormatException(src.path(), t.name(), "element " + i + " is " + v[i]
                        + "; LoRA values must be finite");
            }
        }
        return v;
    }

    private static String list(List<String> names) {
        int shown = Math.min(names.size(), 8);
        String s = String.join(", ", names.subList(0, shown));
        return names.size() > shown ? s + String.format(Locale.ROOT, ", ... (%d more)", names.size() - shown) : s;
    }
}
