package io.sdj.adapters;

import io.sdj.family.Sd1Family;
import io.sdj.family.SdxlFamily;
import io.sdj.model.ClipTextConfig;
import io.sdj.model.GoldenModel;
import io.sdj.model.ModelConfig;
import io.sdj.model.UnetConfig;
import io.sdj.model.VaeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;

import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The diffusers/transformers ↔ LDM module correspondence, checked against the golden LoRA generator's own target
 * column ({@code RandomLora.java --list}, written independently) for every tensor of the kohya, LoCon and PEFT
 * layouts, and the golden files' module counts.
 */
class LoraNamesTest {
    static final ModelConfig SD15 = new ModelConfig(UnetConfig.SD1, VaeConfig.SD1, Map.of(Sd1Family.CLIP,
            ClipTextConfig.SD1));
    static final LoraNames NAMES = LoraNames.of(SD15, "SD 1.x");

    static Path loras() {
        return GoldenModel.sharedDir().resolve("golden-lora/loras");
    }

    @ParameterizedTest
    @CsvSource({
            "'--format kohya --rank 4 --alpha 2 --seed 1 --parts both', 792",
            "'--format locon --rank 2 --alpha 1 --conv-rank 2 --conv-alpha 0.5 --seed 3 --parts both', 1050",
            "'--format peft --rank 2 --seed 4 --parts both', 352"})
    void everyTensorMapsToTheGeneratorsTarget(String options, int tensors) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                GoldenModel.sharedDir().resolve("golden-lora/RandomLora.java").toString(), "--list"));
        cmd.addAll(List.of(options.split(" ")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> expected = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.split("\t");
                String target = f[f.length - 1];
                if (target.startsWith("target=")) {
                    expected.put(f[0], target.substring("target=".length()));
                }
            }
        }
        assertEquals(0, p.waitFor());
        assertEquals(tensors, expected.size());
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String key = e.getKey().replaceAll("\\.(lora_down|lora_up|lora_A|lora_B)\\.weight$|\\.alpha$", "");
            assertEquals(e.getValue(), LoraFile.target(key, NAMES), e.getKey());
        }
    }

    @ParameterizedTest
    @CsvSource({"a.safetensors, 264, 0.5", "a_te.safetensors, 72, 0.5", "a_unet.safetensors, 192, 0.5",
            "b.safetensors, 264, 0.75", "c_locon.safetensors, 350, 0.5", "p_peft.safetensors, 176, 1",
            "p_peft_unet.safetensors, 128, 1"})
    void goldenFilesReadCompletely(String file, int modules, float linearScale) {
        List<LoraModule> m = LoraFile.read(loras().resolve(file), NAMES);
        assertEquals(modules, m.size());
        Map<Integer, Float> scaleByKernel = new HashMap<>();
        for (LoraModule mod : m) {
            scaleByKernel.putIfAbsent(mod.kernel(), mod.scale(1.0f));
            assertEquals(scaleByKernel.get(mod.kernel()), mod.scale(1.0f), mod.key());
        }
        assertEquals(linearScale, scaleByKernel.get(1));
        if (file.startsWith("c_locon")) {
            assertEquals(0.25f, scaleByKernel.get(3)); // conv-alpha 0.5 / conv-rank 2
        }
    }

    @ParameterizedTest
    @CsvSource({
            "unet_down_blocks_1_attentions_0_proj_in, model.diffusion_model.input_blocks.4.1.proj_in.weight",
            "unet_down_blocks_2_downsamplers_0_conv, model.diffusion_model.input_blocks.9.0.op.weight",
            "unet_up_blocks_0_resnets_2_conv_shortcut, model.diffusion_model.output_blocks.2.0.skip_connection.weight",
            "unet_up_blocks_0_upsamplers_0_conv, model.diffusion_model.output_blocks.2.1.conv.weight",
            "unet_up_blocks_1_upsamplers_0_conv, model.diffusion_model.output_blocks.5.2.conv.weight",
            "unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_2, "
                    + "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.2.weight",
            "unet_mid_block_resnets_1_time_emb_proj, model.diffusion_model.middle_block.2.emb_layers.1.weight",
            "unet_input_blocks_1_1_proj_in, model.diffusion_model.input_blocks.1.1.proj_in.weight",
            "te1_text_model_encoder_layers_11_mlp_fc2, cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight"})
    void sd15Modules(String key, String target) {
        assertEquals(target, NAMES.underscored(key));
    }

    @Test
    void sdxlHasNoAttentionAtLevelZeroAndTwoTextEncoders() {
        Map<io.sdj.model.Component, ClipTextConfig> te = new LinkedHashMap<>();
        te.put(SdxlFamily.CLIP_L, ClipTextConfig.SD1);
        te.put(SdxlFamily.CLIP_G, ClipTextConfig.VIT_BIGG);
        ModelConfig xl = new ModelConfig(UnetConfig.SDXL, VaeConfig.SD1, te);
        LoraNames n = LoraNames.of(xl, "SDXL");
        assertNull(LoraFile.target("lora_unet_down_blocks_0_attentions_0_proj_in", n));
        assertEquals("model.diffusion_model.input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight",
                LoraFile.target("lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn2_to_k", n));
        assertEquals("conditioner.embedders.0.transformer.text_model.encoder.layers.3.self_attn.q_proj.weight",
                LoraFile.target("lora_te1_text_model_encoder_layers_3_self_attn_q_proj", n));
        assertEquals("conditioner.embedders.1.model.transformer.resblocks.30.mlp.c_fc.weight",
                LoraFile.target("lora_te2_text_model_encoder_layers_30_mlp_fc1", n));
        assertEquals("conditioner.embedders.1.model.transformer.resblocks.0.attn.out_proj.weight",
                LoraFile.target("text_encoder_2.text_model.encoder.layers.0.self_attn.out_proj", n));
        assertEquals("model.diffusion_model.label_emb.0.2.weight", LoraFile.target("lora_unet_add_embedding_linear_2", n));
    }

}
