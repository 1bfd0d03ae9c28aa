package io.sdj.adapters;

import io.sdj.model.ClipTextConfig;
import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.UnetConfig;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each LoRA module of a model lives: the module names trainers write (diffusers U-Net paths and transformers
 * CLIP paths, dotted for PEFT, with '.' turned into '_' for kohya/A1111) mapped to the LDM weight they patch. Built
 * from the model's own configuration, by walking the same block structure as {@link LdmLayout}, and kept only where
 * the target weight exists in the model.
 *
 * <p>Keys: {@code unet.<diffusers path>}, {@code te<N>.<transformers path>} (N = 1 for the first text encoder) in
 * dotted form, and the same with every '.' replaced by '_' for kohya names. The kohya prefixes {@code lora_unet_},
 * {@code lora_te_} (SD 1.x/2.x), {@code lora_te1_}/{@code lora_te2_} (SDXL) and the PEFT prefixes {@code unet.},
 * {@code text_encoder.}, {@code text_encoder_2.} are resolved to these by {@link LoraFile}.
 */
public final class LoraNames {
    private final Map<String, String> dotted;
    private final Map<String, String> underscored;
    private final Map<String, Integer> parts;
    private final Map<String, long[]> shapes;
    private final String familyName;
    private final int textEncoders;

    private LoraNames(Map<String, String> dotted, Map<String, Integer> parts, Map<String, long[]> shapes,
                      String familyName, int textEncoders) {
        this.dotted = Collections.unmodifiableMap(dotted);
        Map<String, String> u = new HashMap<>();
        dotted.forEach((k, v) -> u.put(k.replace('.', '_'), v));
        this.underscored = Collections.unmodifiableMap(u);
        Map<String, Integer> pp = new HashMap<>(parts);
        parts.forEach((k, v) -> pp.put(k.replace('.', '_'), v));
        this.parts = Collections.unmodifiableMap(pp);
        this.shapes = shapes;
        this.familyName = familyName;
        this.textEncoders = textEncoders;
    }

    /** The module names of a model with this configuration ({@code familyName} is for messages). */
    public static LoraNames of(ModelConfig config, String familyName) {
        Map<String, long[]> shapes = LdmLayout.expectedTensors(config);
        Map<String, String> m = new HashMap<>();
        Map<String, Integer> parts = new HashMap<>();
        unet(m, config.unet(), Component.UNET.prefix());
        int i = 1;
        for (Map.Entry<Component, ClipTextConfig> e : config.textEncoders().entrySet()) {
            clip(m, parts, "te" + i + ".", e.getKey().prefix(), e.getValue());
            i++;
        }
        // kohya files written from LDM names (lora_unet_input_blocks_1_1_proj_in) patch the same weights
        String up = Component.UNET.prefix();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String n = e.getKey();
            if (n.startsWith(up) && n.endsWith(".weight") && e.getValue().length >= 2) {
                m.putIfAbsent("unet." + n.substring(up.length(), n.length() - ".weight".length()), n);
            }
        }
        m.values().removeIf(target -> !shapes.containsKey(target));
        return new LoraNames(m, parts, shapes, familyName, config.textEncoders().size());
    }

    /** The LDM weight a dotted key ({@code unet.down_blocks.0...}, {@code te1.text_model...}) patches, or null. */
    public String dotted(String key) {
        return dotted.get(key);
    }

    /** The LDM weight an underscored key ({@code unet_down_blocks_0_...}) patches, or null. */
    public String underscored(String key) {
        return underscored.get(key);
    }

    /**
     * For a module that patches a third of a fused projection (OpenCLIP's q, k, v rows of {@code in_proj_weight}):
     * which third (0, 1, 2); -1 for a module that patches a whole weight. The key is dotted or underscored.
     */
    public int part(String key) {
        return parts.getOrDefault(key, -1);
    }

    /** The model's shape of a weight (outermost first), or null. */
    public long[] shape(String weight) {
        return shapes.get(weight);
    }

    /** How many text encoders the model has. */
    public int textEncoders() {
        return textEncoders;
    }

    public String familyName() {
        return familyName;
    }

    /** Every module key (dotted form) and its target, for tests. */
    public Map<String, String> all() {
        return dotted;
    }

    // --------------------------------------------------------------------------------------------- U-Net

    private static void unet(Map<String, String> m, UnetConfig u, String p) {
        put(m, "unet.conv_in", p + "input_blocks.0.0");
        put(m, "unet.conv_out", p + "out.2");
        put(m, "unet.time_embedding.linear_1", p + "time_embed.0");
        put(m, "unet.time_embedding.linear_2", p + "time_embed.2");
        put(m, "unet.add_embedding.linear_1", p + "label_emb.0.0");
        put(m, "unet.add_embedding.linear_2", p + "label_emb.0.2");
        int idx = 1;
        for (int level = 0; level < u.levels(); level++) {
            String d = "unet.down_blocks." + level;
            for (int r = 0; r < u.numResBlocks(); r++) {
                resnet(m, d + ".resnets." + r, p + "input_blocks." + idx + ".0");
                if (u.hasAttention(level)) {
                    transformer(m, d + ".attentions." + r, p + "input_blocks." + idx + ".1",
                            u.transformerDepth().get(level));
                }
                idx++;
            }
            if (level != u.levels() - 1) {
                put(m, d + ".downsamplers.0.conv", p + "input_blocks." + idx + ".0.op");
                idx++;
            }
        }
        resnet(m, "unet.mid_block.resnets.0", p + "middle_block.0");
        transformer(m, "unet.mid_block.attentions.0", p + "middle_block.1", u.middleDepth());
        resnet(m, "unet.mid_block.resnets.1", p + "middle_block.2");
        idx = 0;
        for (int i = 0; i < u.levels(); i++) {
            int level = u.levels() - 1 - i;
            String up = "unet.up_blocks." + i;
            for (int j = 0; j <= u.numResBlocks(); j++) {
                resnet(m, up + ".resnets." + j, p + "output_blocks." + idx + ".0");
                int sub = 1;
                if (u.hasAttention(level)) {
                    transformer(m, up + ".attentions." + j, p + "output_blocks." + idx + ".1",
                            u.transformerDepth().get(level));
                    sub = 2;
                }
                if (level > 0 && j == u.numResBlocks()) {
                    put(m, up + ".upsamplers.0.conv", p + "output_blocks." + idx + "." + sub + ".conv");
                }
                idx++;
            }
        }
    }

    private static void resnet(Map<String, String> m, String d, String l) {
        put(m, d + ".conv1", l + ".in_layers.2");
        put(m, d + ".conv2", l + ".out_layers.3");
        put(m, d + ".time_emb_proj", l + ".emb_layers.1");
        put(m, d + ".conv_shortcut", l + ".skip_connection");
    }

    private static void transformer(Map<String, String> m, String d, String l, int depth) {
        put(m, d + ".proj_in", l + ".proj_in");
        put(m, d + ".proj_out", l + ".proj_out");
        for (int b = 0; b < depth; b++) {
            String t = ".transformer_blocks." + b;
            for (String mod : List.of("attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0", "attn2.to_q",
                    "attn2.to_k", "attn2.to_v", "attn2.to_out.0", "ff.net.0.proj", "ff.net.2")) {
                put(m, d + t + "." + mod, l + t + "." + mod);
            }
        }
    }

    // --------------------------------------------------------------------------------------------- CLIP

    private static void clip(Map<String, String> m, Map<String, Integer> parts, String key, String prefix,
                             ClipTextConfig c) {
        boolean openAi = c.flavor() == ClipTextConfig.Flavor.OPENAI;
        for (int i = 0; i < c.numLayers(); i++) {
            String hf = key + "text_model.encoder.layers." + i;
            if (openAi) {
                String l = prefix + "encoder.layers." + i;
                for (String mod : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                        "self_attn.out_proj", "mlp.fc1", "mlp.fc2")) {
                    put(m, hf + "." + mod, l + "." + mod);
                }
            } else {
                // OpenCLIP names; q, k and v are the row thirds of the fused in_proj_weight
                String l = prefix + "transformer.resblocks." + i;
                String[] qkv = {"q_proj", "k_proj", "v_proj"};
                for (int part = 0; part < 3; part++) {
                    m.put(hf + ".self_attn." + qkv[part], l + ".attn.in_proj_weight");
                    parts.put(hf + ".self_attn." + qkv[part], part);
                }
                put(m, hf + ".self_attn.out_proj", l + ".attn.out_proj");
                put(m, hf + ".mlp.fc1", l + ".mlp.c_fc");
                put(m, hf + ".mlp.fc2", l + ".mlp.c_proj");
            }
        }
    }

    private static void put(Map<String, String> m, String key, String ldmModule) {
        m.put(key, ldmModule + ".weight");
    }
}
