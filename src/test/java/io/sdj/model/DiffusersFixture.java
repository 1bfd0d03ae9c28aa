package io.sdj.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-side conversion of a tiny LDM single-file checkpoint ({@link TinySd15Writer}) into a diffusers pipeline
 * folder, and into separate component files. The name tables here are written from the diffusers / transformers
 * layouts themselves (LDM → diffusers direction), independently of {@link DiffusersNames}, so a folder loaded by sdj
 * and the single file it was made from must give the same tensors and the same image.
 */
public final class DiffusersFixture {
    /** The VAE attention names to write: diffusers' current ones or the older ones. */
    public enum VaeAttention { CURRENT, LEGACY }

    private static final String UNET = "model.diffusion_model.";
    private static final String VAE = "first_stage_model.";

    private DiffusersFixture() {
    }

    /** One tensor's name, type, shape and bytes. */
    public record Blob(String name, DType dtype, long[] shape, byte[] data) {
    }

    /** Every tensor of a file, in its order, with its bytes. */
    public static Map<String, Blob> readAll(Path file) {
        Map<String, Blob> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            for (TensorInfo t : f.tensors().values()) {
                MemorySegment seg = arena.allocate(Math.max(1, t.byteSize())).asSlice(0, t.byteSize());
                f.read(t, seg);
                out.put(t.name(), new Blob(t.name(), t.dtype(), t.shape(), seg.toArray(ValueLayout.JAVA_BYTE)));
            }
        }
        return out;
    }

    /** The single file's metadata. */
    public static Map<String, String> metadata(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return new LinkedHashMap<>(f.metadata());
        }
    }

    // ------------------------------------------------------------------------------------------ name tables

    /** LDM U-Net block prefixes (local) → diffusers prefixes, with ResNet leaves renamed. */
    static Map<String, String> unetTable(UnetConfig u) {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("time_embed.0.", "time_embedding.linear_1.");
        t.put("time_embed.2.", "time_embedding.linear_2.");
        t.put("label_emb.0.0.", "add_embedding.linear_1.");
        t.put("label_emb.0.2.", "add_embedding.linear_2.");
        t.put("input_blocks.0.0.", "conv_in.");
        t.put("out.0.", "conv_norm_out.");
        t.put("out.2.", "conv_out.");
        int levels = u.levels();
        int r = u.numResBlocks();
        for (int level = 0; level < levels; level++) {
            for (int j = 0; j < r; j++) {
                int idx = 1 + level * (r + 1) + j;
                resnet(t, "input_blocks." + idx + ".0.", "down_blocks." + level + ".resnets." + j + ".");
                t.put("input_blocks." + idx + ".1.", "down_blocks." + level + ".attentions." + j + ".");
            }
            if (level < levels - 1) {
                t.put("input_blocks." + ((level + 1) * (r + 1)) + ".0.op.", "down_blocks." + level + ".downsamplers.0.conv.");
            }
        }
        resnet(t, "middle_block.0.", "mid_block.resnets.0.");
        t.put("middle_block.1.", "mid_block.attentions.0.");
        resnet(t, "middle_block.2.", "mid_block.resnets.1.");
        for (int up = 0; up < levels; up++) {
            int level = levels - 1 - up;
            for (int j = 0; j <= r; j++) {
                int idx = up * (r + 1) + j;
                resnet(t, "output_blocks." + idx + ".0.", "up_blocks." + up + ".resnets." + j + ".");
                t.put("output_blocks." + idx + ".1.", "up_blocks." + up + ".attentions." + j + ".");
            }
            if (up < levels - 1) {
                int sub = u.hasAttention(level) ? 2 : 1;
                t.put("output_blocks." + (up * (r + 1) + r) + "." + sub + ".conv.", "up_blocks." + up + ".upsamplers.0.conv.");
            }
        }
        return t;
    }

    private static void resnet(Map<String, String> t, String ldm, String diffusers) {
        t.put(ldm + "in_layers.0.", diffusers + "norm1.");
        t.put(ldm + "in_layers.2.", diffusers + "conv1.");
        t.put(ldm + "emb_layers.1.", diffusers + "time_emb_proj.");
        t.put(ldm + "out_layers.0.", diffusers + "norm2.");
        t.put(ldm + "out_layers.3.", diffusers + "conv2.");
        t.put(ldm + "skip_connection.", diffusers + "conv_shortcut.");
    }

    /** LDM VAE prefixes (local) → diffusers prefixes. */
    static Map<String, String> vaeTable(VaeConfig v, VaeAttention names) {
        Map<String, String> t = new LinkedHashMap<>();
        for (String same : new String[]{"encoder.conv_in.", "encoder.conv_out.", "decoder.conv_in.", "decoder.conv_out.",
                "quant_conv.", "post_quant_conv."}) {
            t.put(same, same);
        }
        t.put("encoder.norm_out.", "encoder.conv_norm_out.");
        t.put("decoder.norm_out.", "decoder.conv_norm_out.");
        int levels = v.levels();
        for (int level = 0; level < levels; level++) {
            for (int j = 0; j < v.numResBlocks(); j++) {
                vaeResnet(t, "encoder.down." + level + ".block." + j + ".", "encoder.down_blocks." + level + ".resnets." + j + ".");
            }
            t.put("encoder.down." + level + ".downsample.conv.", "encoder.down_blocks." + level + ".downsamplers.0.conv.");
            int up = levels - 1 - level;
            for (int j = 0; j <= v.numResBlocks(); j++) {
                vaeResnet(t, "decoder.up." + level + ".block." + j + ".", "decoder.up_blocks." + up + ".resnets." + j + ".");
            }
            t.put("decoder.up." + level + ".upsample.conv.", "decoder.up_blocks." + up + ".upsamplers.0.conv.");
        }
        for (String side : new String[]{"encoder", "decoder"}) {
            vaeResnet(t, side + ".mid.block_1.", side + ".mid_block.resnets.0.");
            vaeResnet(t, side + ".mid.block_2.", side + ".mid_block.resnets.1.");
            String a = side + ".mid.attn_1.";
            String d = side + ".mid_block.attentions.0.";
            boolean legacy = names == VaeAttention.LEGACY;
            t.put(a + "norm.", d + "group_norm.");
            t.put(a + "q.", d + (legacy ? "query." : "to_q."));
            t.put(a + "k.", d + (legacy ? "key." : "to_k."));
            t.put(a + "v.", d + (legacy ? "value." : "to_v."));
            t.put(a + "proj_out.", d + (legacy ? "proj_attn." : "to_out.0."));
        }
        return t;
    }

    private static void vaeResnet(Map<String, String> t, String ldm, String diffusers) {
        for (String same : new String[]{"norm1.", "conv1.", "norm2.", "conv2."}) {
            t.put(ldm + same, diffusers + same);
        }
        t.put(ldm + "nin_shortcut.", diffusers + "conv_shortcut.");
    }

    /** Renames {@code local} with the longest matching prefix of the table; fails when none matches. */
    static String rename(String local, Map<String, String> table) {
        String best = table.keySet().stream().filter(local::startsWith).max(Comparator.comparingInt(String::length))
                .orElseThrow(() -> new IllegalStateException("no diffusers name for " + local));
        return table.get(best) + local.substring(best.length());
    }

    // ------------------------------------------------------------------------------------------ components

    /** The U-Net's tensors under diffusers names. */
    public static Map<String, Blob> diffusersUnet(Map<String, Blob> all, UnetConfig u) {
        Map<String, String> table = unetTable(u);
        Map<String, Blob> out = new LinkedHashMap<>();
        for (Blob b : all.values()) {
            if (b.name().startsWith(UNET)) {
                String n = rename(b.name().substring(UNET.length()), table);
                out.put(n, new Blob(n, b.dtype(), b.shape(), b.data()));
            }
        }
        return out;
    }

    /** The VAE's tensors under diffusers names, attention weights as linear [c, c]. */
    public static Map<String, Blob> diffusersVae(Map<String, Blob> all, VaeConfig v, VaeAttention names) {
        Map<String, String> table = vaeTable(v, names);
        Map<String, Blob> out = new LinkedHashMap<>();
        for (Blob b : all.values()) {
            if (b.name().startsWith(VAE)) {
                String local = b.name().substring(VAE.length());
                String n = rename(local, table);
                long[] shape = b.shape();
                if (local.contains(".attn_1.") && shape.length == 4) {
                    shape = new long[]{shape[0], shape[1]};
                }
                out.put(n, new Blob(n, b.dtype(), shape, b.data()));
            }
        }
        return out;
    }

    /** Tensors under {@code prefix} with it replaced by {@code replacement}. */
    public static Map<String, Blob> reprefixed(Map<String, Blob> all, String prefix, String replacement) {
        Map<String, Blob> out = new LinkedHashMap<>();
        for (Blob b : all.values()) {
            if (b.name().startsWith(prefix)) {
                String n = replacement + b.name().substring(prefix.length());
                out.put(n, new Blob(n, b.dtype(), b.shape(), b.data()));
            }
        }
        return out;
    }

    /**
     * An OpenCLIP text encoder under {@code prefix} as a transformers CLIPTextModel(WithProjection): resblocks →
     * encoder.layers with in_proj split into q/k/v, text_projection [h, p] → text_projection.weight [p, h].
     */
    public static Map<String, Blob> transformersFromOpenClip(Map<String, Blob> all, String prefix, boolean projection) {
        Map<String, String> leaves = Map.of("ln_1.", "layer_norm1.", "ln_2.", "layer_norm2.",
                "attn.out_proj.", "self_attn.out_proj.", "mlp.c_fc.", "mlp.fc1.", "mlp.c_proj.", "mlp.fc2.");
        Map<String, Blob> out = new LinkedHashMap<>();
        for (Blob b : all.values()) {
            if (!b.name().startsWith(prefix)) {
                continue;
            }
            String local = b.name().substring(prefix.length());
            if (local.equals("token_embedding.weight")) {
                put(out, "text_model.embeddings.token_embedding.weight", b, b.shape(), b.data());
            } else if (local.equals("positional_embedding")) {
                put(out, "text_model.embeddings.position_embedding.weight", b, b.shape(), b.data());
            } else if (local.startsWith("ln_final.")) {
                put(out, "text_model.final_layer_norm." + local.substring("ln_final.".length()), b, b.shape(), b.data());
            } else if (local.equals("text_projection")) {
                if (projection) {
                    long[] s = b.shape();
                    put(out, "text_projection.weight", b, new long[]{s[1], s[0]}, transpose(b.data(), s[0], s[1],
                            b.dtype().byteSize()));
                }
            } else if (local.startsWith("transformer.resblocks.")) {
                String rest = local.substring("transformer.resblocks.".length());
                String layer = rest.substring(0, rest.indexOf('.'));
                String leaf = rest.substring(layer.length() + 1);
                String hf = "text_model.encoder.layers." + layer + ".";
                if (leaf.equals("attn.in_proj_weight") || leaf.equals("attn.in_proj_bias")) {
                    String kind = leaf.endsWith("weight") ? "weight" : "bias";
                    long[] s = b.shape();
                    long rows = s[0] / 3;
                    long[] part = s.clone();
                    part[0] = rows;
                    int bytes = b.data().length / 3;
                    String[] qkv = {"q_proj", "k_proj", "v_proj"};
                    for (int i = 0; i < 3; i++) {
                        byte[] d = java.util.Arrays.copyOfRange(b.data(), i * bytes, (i + 1) * bytes);
                        put(out, hf + "self_attn." + qkv[i] + "." + kind, b, part, d);
                    }
                } else {
                    String mapped = null;
                    for (Map.Entry<String, String> e : leaves.entrySet()) {
                        if (leaf.startsWith(e.getKey())) {
                            mapped = hf + e.getValue() + leaf.substring(e.getKey().length());
                        }
                    }
                    if (mapped == null) {
                        throw new IllegalStateException("no transformers name for " + b.name());
                    }
                    put(out, mapped, b, b.shape(), b.data());
                }
            } else {
                throw new IllegalStateException("no transformers name for " + b.name());
            }
        }
        return out;
    }

    private static void put(Map<String, Blob> out, String name, Blob b, long[] shape, byte[] data) {
        out.put(name, new Blob(name, b.dtype(), shape, data));
    }

    static byte[] transpose(byte[] data, long rows, long cols, int size) {
        byte[] out = new byte[data.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                System.arraycopy(data, (int) ((r * cols + c) * size), out, (int) ((c * rows + r) * size), size);
            }
        }
        return out;
    }

    /** Writes tensors (ascending name order) with optional metadata. */
    public static Path write(Path file, Map<String, Blob> tensors, Map<String, String> metadata) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::metadata);
        tensors.values().stream().sorted(Comparator.comparing(Blob::name))
                .forEach(b -> w.add(b.name(), b.dtype(), b.shape(), b.data()));
        w.write(file);
        return file;
    }

    // ------------------------------------------------------------------------------------------ folders

    /**
     * Writes the diffusers folder of a tiny single file: model_index.json, unet/, vae/, text_encoder/ (+ config.json
     * with its activation), text_encoder_2/ for SDXL, tokenizer/merges.txt.
     */
    public static Path writeFolder(Path single, ModelConfig config, TinySd15Writer.Family family, Path dir,
                                   VaeAttention vaeNames, Path merges) {
        Map<String, Blob> all = readAll(single);
        write(dir.resolve("unet/diffusion_pytorch_model.safetensors"), diffusersUnet(all, config.unet()), metadata(single));
        write(dir.resolve("vae/diffusion_pytorch_model.safetensors"), diffusersVae(all, config.vae(), vaeNames), Map.of());
        String pipeline = family == TinySd15Writer.Family.SDXL ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline";
        switch (family) {
            case SD1 -> write(dir.resolve("text_encoder/model.safetensors"),
                    reprefixed(all, "cond_stage_model.transformer.", ""), Map.of());
            case SD2 -> write(dir.resolve("text_encoder/model.safetensors"),
                    transformersFromOpenClip(all, "cond_stage_model.model.", false), Map.of());
            case SDXL -> {
                write(dir.resolve("text_encoder/model.safetensors"),
                        reprefixed(all, "conditioner.embedders.0.transformer.", ""), Map.of());
                write(dir.resolve("text_encoder_2/model.safetensors"),
                        transformersFromOpenClip(all, "conditioner.embedders.1.model.", true), Map.of());
            }
        }
        try {
            Files.writeString(dir.resolve("text_encoder/config.json"), "{\"architectures\": [\"CLIPTextModel\"], "
                    + "\"hidden_act\": \"" + (family == TinySd15Writer.Family.SD1 ? "quick_gelu" : "gelu") + "\"}");
            Files.writeString(dir.resolve("model_index.json"), "{\"_class_name\": \"" + pipeline
                    + "\", \"_diffusers_version\": \"0.30.0\"}");
            Files.createDirectories(dir.resolve("tokenizer"));
            Files.copy(merges, dir.resolve("tokenizer/merges.txt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
