package io.sdj.family;

import io.sdj.InvalidParameterException;
import io.sdj.model.DType;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --tensor-type-rules (sd.cpp's semantics) and --diffusion-conv-type (sdj's) in the weight type policy. */
class WeightTypePolicyTest {
    private static final Path FILE = Path.of("model.safetensors");

    private static TensorInfo t(String name, long... shape) {
        return new TensorInfo(name, DType.F16, shape, 0, 0);
    }

    private static GgmlType type(WeightTypePolicy p, TensorInfo t) {
        String local = t.name().substring(t.name().indexOf('.') + 1);
        return p.typeOf(FILE, t, local);
    }

    private static final TensorInfo UNET_LINEAR = t("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", 320, 768);
    private static final TensorInfo UNET_CONV = t("model.diffusion_model.input_blocks.1.0.in_layers.2.weight", 320, 320, 3, 3);
    private static final TensorInfo UNET_CONV_IN = t("model.diffusion_model.input_blocks.0.0.weight", 320, 4, 3, 3);
    private static final TensorInfo UNET_BIAS = t("model.diffusion_model.input_blocks.1.0.in_layers.2.bias", 320);
    private static final TensorInfo VAE_CONV = t("first_stage_model.decoder.conv_in.weight", 512, 4, 3, 3);
    private static final TensorInfo VAE_LINEAR = t("first_stage_model.decoder.mid.attn_1.q.weight", 512, 512);
    private static final TensorInfo CLIP_LINEAR = t("cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight", 3072, 768);

    @Test
    void theFirstMatchingRuleReplacesTheRequestedType() {
        WeightTypePolicy p = new WeightTypePolicy(GgmlType.Q8_0)
                .withRules(TensorTypeRule.parse("^first_stage_model\\.=f16, attn2 = q4_0 ,model\\.diffusion_model\\.=q5_0,"));
        assertEquals(GgmlType.F16, type(p, VAE_LINEAR));
        assertEquals(GgmlType.Q4_0, type(p, UNET_LINEAR));
        assertEquals(GgmlType.Q8_0, type(p, CLIP_LINEAR), "no rule: --type");
        // the policy's exceptions hold whatever the rule: kernels F16, biases F32 (as in sd.cpp)
        assertEquals(GgmlType.F16, type(p, UNET_CONV));
        assertEquals(GgmlType.F32, type(p, UNET_BIAS));
        WeightTypePolicy noType = new WeightTypePolicy(null).withRules(TensorTypeRule.parse("fc1=q8_0"));
        assertEquals(GgmlType.Q8_0, type(noType, CLIP_LINEAR));
        assertEquals(GgmlType.F16, type(noType, UNET_LINEAR), "no rule and no --type: the file's type");
        assertEquals(List.of("nothing_here"), TensorTypeRule.unmatched(TensorTypeRule.parse("fc1=q8_0,nothing_here=f16"),
                        List.of(CLIP_LINEAR.name(), UNET_LINEAR.name())).stream()
                .map(r -> r.pattern().pattern()).toList());
    }

    @Test
    void malformedRulesAreRefusedNamingTheEntry() {
        for (String[] c : new String[][]{
                {"model.diffusion_model", "not PATTERN=TYPE"},
                {"=q8_0", "not PATTERN=TYPE"},
                {"unet=", "not PATTERN=TYPE"},
                {"unet=q9_9", "unknown weight type 'q9_9'"},
                {"unet=i32", "i32 is not a weight type"},
                {"un(et=q8_0", "is not a regular expression"}}) {
            InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> TensorTypeRule.parse(c[0]));
            assertEquals(TensorTypeRule.PARAMETER, e.parameter());
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
        assertEquals(List.of(), TensorTypeRule.parse(" , "));
        assertEquals("a=q8_0,^b\\.=f16", TensorTypeRule.format(TensorTypeRule.parse("a=q8_0,^b\\.=F16")));
    }

    @Test
    void diffusionConvTypeQuantizesTheUNetKernelsThatFitItsBlock() {
        WeightTypePolicy p = new WeightTypePolicy(GgmlType.Q4_0).withDiffusionConvType(GgmlType.Q8_0);
        assertEquals(GgmlType.Q8_0, type(p, UNET_CONV));
        assertEquals(GgmlType.F16, type(p, UNET_CONV_IN), "4·3·3 = 36 does not fit q8_0's blocks of 32");
        assertEquals(GgmlType.F16, type(p, VAE_CONV), "the VAE keeps F16 kernels");
        assertEquals(GgmlType.Q4_0, type(p, UNET_LINEAR));
        assertEquals(GgmlType.F32, type(p, UNET_BIAS));
        assertEquals(GgmlType.F16, type(p.withDiffusionConvType(GgmlType.Q4_K), UNET_CONV), "2880 is no multiple of 256");
        assertEquals(GgmlType.Q4_K, type(p.withDiffusionConvType(GgmlType.Q4_K),
                t("model.diffusion_model.middle_block.0.in_layers.2.weight", 1280, 1280, 3, 3)));
        assertEquals(GgmlType.F32, type(p.withDiffusionConvType(GgmlType.F32), UNET_CONV_IN));
        assertNull(new WeightTypePolicy(null).diffusionConvType());
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> new WeightTypePolicy(null).withDiffusionConvType(GgmlType.I32));
        assertEquals(WeightTypePolicy.DIFFUSION_CONV_TYPE, e.parameter());
    }
}
