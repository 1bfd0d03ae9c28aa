package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps the tensors of diffusers / transformers components to the LDM single-file names sdj's families expect, into
 * a {@link CompositeSource.Builder}:
 * <ul>
 *   <li>{@link #unet}: UNet2DConditionModel ({@code down_blocks}, {@code mid_block}, {@code up_blocks},
 *       {@code time_embedding}, {@code add_embedding}) → {@code input_blocks}, {@code middle_block},
 *       {@code output_blocks}, {@code time_embed}, {@code label_emb};</li>
 *   <li>{@link #vae}: AutoencoderKL → {@code encoder.down.N.block.M}, {@code mid.attn_1.q/k/v/proj_out} (the
 *       attention's linear [c, c] weights viewed as the LDM 1×1 convolutions [c, c, 1, 1]; both the current
 *       {@code to_q/to_k/to_v/to_out.0} and the older {@code query/key/value/proj_attn} names);</li>
 *   <li>{@link #openAiClip}: CLIPTextModel {@code text_model.*} as it is, under the LDM prefix;</li>
 *   <li>{@link #openClip}: CLIPTextModel(WithProjection) → the OpenCLIP layout ({@code transformer.resblocks.N},
 *       q/k/v rows fused into {@code attn.in_proj_weight/bias}, {@code text_projection} = the transposed linear
 *       weight, since OpenCLIP multiplies {@code x @ text_projection} where transformers applies
 *       {@code x @ W^T}).</li>
 * </ul>
 * Names that map to nothing are logged and left out; the family's validation then reports what is missing.
 */
public final class DiffusersNames {
    private static final Logger LOG = LoggerFactory.getLogger(DiffusersNames.class);

    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d{1,4})\\.(resnets|attentions)\\.(\\d{1,4})\\.(.+)");
    private static final Pattern DOWNSAMPLE = Pattern.compile("down_blocks\\.(\\d{1,4})\\.downsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d{1,4})\\.(resnets|attentions)\\.(\\d{1,4})\\.(.+)");
    private static final Pattern UPSAMPLE = Pattern.compile("up_blocks\\.(\\d{1,4})\\.upsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d{1,4})\\.(.+)");
    private static final Pattern VAE_DOWN = Pattern.compile("encoder\\.down_blocks\\.(\\d{1,4})\\.resnets\\.(\\d{1,4})\\.(.+)");
    private static final Pattern VAE_DOWNSAMPLE = Pattern.compile("encoder\\.down_blocks\\.(\\d{1,4})\\.downsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern VAE_UP = Pattern.compile("decoder\\.up_blocks\\.(\\d{1,4})\\.resnets\\.(\\d{1,4})\\.(.+)");
    private static final Pattern VAE_UPSAMPLE = Pattern.compile("decoder\\.up_blocks\\.(\\d{1,4})\\.upsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d{1,4})\\.(.+)");
    private static final Pattern CLIP_LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d{1,4})\\.(.+)");

    /** The U-Net's ResNet names (diffusers → LDM), after the block prefix. */
    private static final Map<String, String> UNET_RESNET = Map.of(
            "norm1", "in_layers.0", "conv1", "in_layers.2", "time_emb_proj", "emb_layers.1",
            "norm2", "out_layers.0", "conv2", "out_layers.3", "conv_shortcut", "skip_connection");
    /** The U-Net's top-level names. */
    private static final Map<String, String> UNET_TOP = Map.of(
            "conv_in", "input_blocks.0.0", "time_embedding.linear_1", "time_embed.0",
            "time_embedding.linear_2", "time_embed.2", "add_embedding.linear_1", "label_emb.0.0",
            "add_embedding.linear_2", "label_emb.0.2", "conv_norm_out", "out.0", "conv_out", "out.2");
    /** The VAE attention's names, current and older diffusers. */
    private static final Map<String, String> VAE_ATTENTION = Map.of(
            "group_norm", "norm", "to_q", "q", "to_k", "k", "to_v", "v", "to_out.0", "proj_out",
            "query", "q", "key", "k", "value", "v", "proj_attn", "proj_out");
    /** transformers CLIP layer names → OpenCLIP resblock names (q/k/v are fused separately). */
    private static final Map<String, String> OPEN_CLIP_LAYER = Map.of(
            "layer_norm1", "ln_1", "layer_norm2", "ln_2", "self_attn.out_proj", "attn.out_proj",
            "mlp.fc1", "mlp.c_fc", "mlp.fc2", "mlp.c_proj");

    private DiffusersNames() {
    }

    /** True when the names look like a diffusers U-Net (not an LDM one). */
    public static boolean isDiffusersUnet(Map<String, TensorInfo> tensors) {
        return tensors.containsKey("conv_in.weight") && tensors.keySet().stream().anyMatch(n -> n.startsWith("down_blocks."));
    }

    /** True when the names look like a diffusers VAE. */
    public static boolean isDiffusersVae(Map<String, TensorInfo> tensors) {
        return tensors.keySet().stream().anyMatch(n -> n.startsWith("encoder.down_blocks.") || n.startsWith("decoder.up_blocks.")
                || n.startsWith("encoder.mid_block.") || n.startsWith("decoder.mid_block."));
    }

    /** True when the names are transformers' CLIPTextModel ({@code text_model.*}). */
    public static boolean isTransformersClip(Map<String, TensorInfo> tensors) {
        return tensors.containsKey("text_model.embeddings.token_embedding.weight");
    }

    /** Maps a diffusers U-Net's tensors under {@code prefix} (e.g. {@code model.diffusion_model.}). */
    public static void unet(TensorSource src, String prefix, CompositeSource.Builder out) {
        Map<String, TensorInfo> t = src.tensors();
        int perLevel = 1 + maxIndex(t, DOWN, 3);
        TreeSet<Integer> upWithAttention = new TreeSet<>();
        for (String n : t.keySet()) {
            Matcher m = UP.matcher(n);
            if (m.matches() && m.group(2).equals("attentions")) {
                upWithAttention.add(Integer.parseInt(m.group(1)));
            }
        }
        List<String> unmapped = new ArrayList<>();
        for (TensorInfo info : t.values()) {
            String ldm = unetName(info.name(), perLevel, upWithAttention);
            if (ldm == null) {
                unmapped.add(info.name());
            } else {
                out.copy(prefix + ldm, src, info);
            }
        }
        reportUnmapped(src, "U-Net", unmapped);
    }

    private static String unetName(String n, int resnets, TreeSet<Integer> upWithAttention) {
        String top = topLevel(n, UNET_TOP);
        if (top != null) {
            return top;
        }
        Matcher m = DOWN.matcher(n);
        if (m.matches()) {
            int idx = 1 + Integer.parseInt(m.group(1)) * (resnets + 1) + Integer.parseInt(m.group(3));
            return blockPart("input_blocks." + idx, m.group(2), m.group(4));
        }
        m = DOWNSAMPLE.matcher(n);
        if (m.matches()) {
            return "input_blocks." + ((Integer.parseInt(m.group(1)) + 1) * (resnets + 1)) + ".0.op." + m.group(2);
        }
        m = MID.matcher(n);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(2));
            boolean attn = m.group(1).equals("attentions");
            if (attn ? i != 0 : i > 1) {
                return null;
            }
            return attn ? "middle_block.1." + m.group(3) : blockPart("middle_block." + (2 * i), "resnets", m.group(3));
        }
        m = UP.matcher(n);
        if (m.matches()) {
            int idx = Integer.parseInt(m.group(1)) * (resnets + 1) + Integer.parseInt(m.group(3));
            return blockPart("output_blocks." + idx, m.group(2), m.group(4));
        }
        m = UPSAMPLE.matcher(n);
        if (m.matches()) {
            int level = Integer.parseInt(m.group(1));
            int idx = level * (resnets + 1) + resnets;
            return "output_blocks." + idx + "." + (upWithAttention.contains(level) ? 2 : 1) + ".conv." + m.group(2);
        }
        return null;
    }

    /** A ResNet ({@code .0}, ResNet names mapped) or a transformer ({@code .1}, names as they are) of a block. */
    private static String blockPart(String block, String kind, String rest) {
        if (kind.equals("attentions")) {
            return block + ".1." + rest;
        }
        if (block.startsWith("middle_block.")) {
            return mapped(block + ".", rest, UNET_RESNET);
        }
        return mapped(block + ".0.", rest, UNET_RESNET);
    }

    /** Maps a diffusers AutoencoderKL's tensors under {@code prefix} (e.g. {@code first_stage_model.}). */
    public static void vae(TensorSource src, String prefix, CompositeSource.Builder out) {
        Map<String, TensorInfo> t = src.tensors();
        int levels = 1 + maxIndex(t, VAE_UP, 1);
        List<String> unmapped = new ArrayList<>();
        for (TensorInfo info : t.values()) {
            String n = info.name();
            String ldm = vaeName(n, levels);
            if (ldm == null) {
                unmapped.add(n);
            } else if (ldm.contains(".attn_1.") && !ldm.contains(".attn_1.norm.") && info.rank() == 2) {
                out.reshape(prefix + ldm, src, info, info.dim(0), info.dim(1), 1, 1);
            } else {
                out.copy(prefix + ldm, src, info);
            }
        }
        reportUnmapped(src, "VAE", unmapped);
    }

    private static String vaeName(String n, int levels) {
        for (String keep : new String[]{"quant_conv.", "post_quant_conv.", "encoder.conv_in.", "encoder.conv_out.",
                "decoder.conv_in.", "decoder.conv_out."}) {
            if (n.startsWith(keep)) {
                return n;
            }
        }
        if (n.startsWith("encoder.conv_norm_out.")) {
            return "encoder.norm_out." + n.substring("encoder.conv_norm_out.".length());
        }
        if (n.startsWith("decoder.conv_norm_out.")) {
            return "decoder.norm_out." + n.substring("decoder.conv_norm_out.".length());
        }
        Matcher m = VAE_DOWN.matcher(n);
        if (m.matches()) {
            return vaeResnet("encoder.down." + m.group(1) + ".block." + m.group(2) + ".", m.group(3));
        }
        m = VAE_DOWNSAMPLE.matcher(n);
        if (m.matches()) {
            return "encoder.down." + m.group(1) + ".downsample.conv." + m.group(2);
        }
        m = VAE_UP.matcher(n);
        if (m.matches()) {
            return vaeResnet("decoder.up." + (levels - 1 - Integer.parseInt(m.group(1))) + ".block." + m.group(2) + ".",
                    m.group(3));
        }
        m = VAE_UPSAMPLE.matcher(n);
        if (m.matches()) {
            return "decoder.up." + (levels - 1 - Integer.parseInt(m.group(1))) + ".upsample.conv." + m.group(2);
        }
        m = VAE_MID.matcher(n);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(3));
            if (m.group(2).equals("attentions")) {
                return i == 0 ? mapped(m.group(1) + ".mid.attn_1.", m.group(4), VAE_ATTENTION) : null;
            }
            return i > 1 ? null : vaeResnet(m.group(1) + ".mid.block_" + (i + 1) + ".", m.group(4));
        }
        return null;
    }

    private static String vaeResnet(String block, String rest) {
        return rest.startsWith("conv_shortcut.") ? block + "nin_shortcut." + rest.substring("conv_shortcut.".length())
                : block + rest;
    }

    /** A transformers CLIPTextModel in the OpenAI naming sdj uses for CLIP-L: {@code text_model.*} under {@code prefix}. */
    public static void openAiClip(TensorSource src, String prefix, CompositeSource.Builder out) {
        List<String> unmapped = new ArrayList<>();
        for (TensorInfo info : src.tensors().values()) {
            if (info.name().startsWith("text_model.")) {
                out.copy(prefix + info.name(), src, info);
            } else {
                unmapped.add(info.name());
            }
        }
        reportUnmapped(src, "CLIP text encoder", unmapped);
    }

    /**
     * A transformers CLIPTextModel / CLIPTextModelWithProjection mapped to the OpenCLIP layout under {@code prefix}.
     * A plain CLIPTextModel (SD 2.x's) has no {@code text_projection}; the caller decides what stands for it.
     */
    public static void openClip(TensorSource src, String prefix, CompositeSource.Builder out) {
        Map<String, TensorInfo> t = src.tensors();
        List<String> unmapped = new ArrayList<>();
        for (TensorInfo info : t.values()) {
            String n = info.name();
            switch (n) {
                case "text_model.embeddings.token_embedding.weight" -> out.copy(prefix + "token_embedding.weight", src, info);
                case "text_model.embeddings.position_embedding.weight" -> out.copy(prefix + "positional_embedding", src, info);
                case "text_model.final_layer_norm.weight" -> out.copy(prefix + "ln_final.weight", src, info);
                case "text_model.final_layer_norm.bias" -> out.copy(prefix + "ln_final.bias", src, info);
                case "text_projection.weight" -> out.transpose(prefix + "text_projection", src, info);
                case "text_model.embeddings.position_ids" -> {
                    // the position ids are 0..n-1; OpenCLIP has no such buffer
                }
                default -> {
                    Matcher m = CLIP_LAYER.matcher(n);
                    if (!m.matches()) {
                        unmapped.add(n);
                        break;
                    }
                    String layer = "text_model.encoder.layers." + m.group(1) + ".";
                    String resblock = prefix + "transformer.resblocks." + m.group(1) + ".";
                    String rest = m.group(2);
                    if (rest.equals("self_attn.q_proj.weight") || rest.equals("self_attn.q_proj.bias")) {
                        String kind = rest.substring("self_attn.q_proj.".length());
                        List<TensorInfo> qkv = new ArrayList<>();
                        for (String p : new String[]{"q_proj", "k_proj", "v_proj"}) {
                            TensorInfo part = t.get(layer + "self_attn." + p + "." + kind);
                            if (part == null) {
                                throw new ModelFormatException(src.path(), layer + "self_attn." + p + "." + kind,
                                        "missing; it is fused with " + n + " into the OpenCLIP in_proj_" + kind);
                            }
                            qkv.add(part);
                        }
                        out.concatRows(resblock + "attn.in_proj_" + kind, src, qkv);
                    } else if (!rest.startsWith("self_attn.k_proj.") && !rest.startsWith("self_attn.v_proj.")) {
                        String ldm = mapped(resblock, rest, OPEN_CLIP_LAYER);
                        if (ldm.equals(resblock + rest)) {
                            unmapped.add(n);
                        } else {
                            out.copy(ldm, src, info);
                        }
                    }
                }
            }
        }
        reportUnmapped(src, "OpenCLIP text encoder", unmapped);
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** {@code block} + the mapped first part of {@code rest} ("norm1.weight" → "in_layers.0.weight"). */
    private static String mapped(String block, String rest, Map<String, String> table) {
        for (Map.Entry<String, String> e : table.entrySet()) {
            if (rest.startsWith(e.getKey() + ".")) {
                return block + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        return block + rest;
    }

    private static String topLevel(String n, Map<String, String> table) {
        for (Map.Entry<String, String> e : table.entrySet()) {
            if (n.startsWith(e.getKey() + ".") && n.indexOf('.', e.getKey().length() + 1) < 0) {
                return e.getValue() + n.substring(e.getKey().length());
            }
        }
        return null;
    }

    /**
     * The largest number in group {@code group} of the names matching {@code p} (for {@link #DOWN}: only the first
     * level's ResNets), -1 if none.
     */
    private static int maxIndex(Map<String, TensorInfo> t, Pattern p, int group) {
        int max = -1;
        for (String n : t.keySet()) {
            Matcher m = p.matcher(n);
            if (m.matches() && (p != DOWN || (m.group(1).equals("0") && m.group(2).equals("resnets")))) {
                max = Math.max(max, Integer.parseInt(m.group(group)));
            }
        }
        return max;
    }

    private static void reportUnmapped(TensorSource src, String what, List<String> unmapped) {
        if (!unmapped.isEmpty()) {
            LOG.warn("{}: {} tensors have no place in the {} layout and are ignored, e.g. {}", src.path(),
                    unmapped.size(), what, unmapped.subList(0, Math.min(5, unmapped.size())));
        }
    }
}
