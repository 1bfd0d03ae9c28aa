package io.sdj.bench;

import io.sdj.model.Component;
import io.sdj.model.UnetConfig;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.WeightStore;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The graph benchmark builds the real U-Net over declared-only weights (needs the ggml runtime). */
class GraphBuildBenchTest {

    @Test
    void declaresEveryUnetWeightWithLoaderTypesWithoutAllocating() {
        try (WeightStore w = GraphBuildBench.declareUnet(UnetConfig.SD1, GgmlType.Q4_0)) {
            assertEquals(686, w.tensors().size());
            assertEquals(0, w.bufferBytes());
            String p = Component.UNET.prefix();
            assertEquals(GgmlType.F16, w.get(p + "input_blocks.0.0.weight").type());
            assertEquals(GgmlType.F32, w.get(p + "input_blocks.0.0.bias").type());
            assertEquals(GgmlType.F16, w.get(p + "time_embed.0.weight").type());
            assertEquals(GgmlType.Q4_0, w.get(p + "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight").type());
            // ggml order: [in, out] for a torch [out, in] linear weight
            assertEquals(320, w.get(p + "time_embed.0.weight").ne(0));
            assertEquals(1280, w.get(p + "time_embed.0.weight").ne(1));
        }
    }

    @Test
    void buildsTheGraphForEachLatentSize() {
        GraphBuildBench b = new GraphBuildBench();
        b.linearType = "f16";
        b.latent = 32;
        b.declareWeights();
        try {
            assertEquals(32L * 32 * 4, b.buildGraph());
            b.latent = 64;
            assertEquals(64L * 64 * 4, b.buildGraph());
        } finally {
            b.close();
        }
    }
}
