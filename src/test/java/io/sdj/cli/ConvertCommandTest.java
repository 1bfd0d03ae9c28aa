package io.sdj.cli;

import io.sdj.model.DType;
import io.sdj.model.GgufFile;
import io.sdj.model.GoldenModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sdj -M convert}, as sd-cli's convert mode. */
class ConvertCommandTest {

    @TempDir
    Path dir;

    private static Path gguf(String name) {
        return GoldenModel.sharedDir().resolve("gguf").resolve(name);
    }

    @Test
    void convertsLikeSdCli() throws IOException {
        Path out = dir.resolve("out.gguf");
        CliRun r = CliRun.of("-M", "convert", "-m", gguf("tiny_src.safetensors").toString(), "-o", out.toString(),
                "--type", "q8_0");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("12 tensors"), r.out());
        assertArrayEquals(Files.readAllBytes(gguf("tiny_q8_0.gguf")), Files.readAllBytes(out));
    }

    @Test
    void convertsACheckpointAndKeepsTypesWithoutType() {
        Path out = dir.resolve("ck.gguf");
        CliRun r = CliRun.of("--mode", "convert", "-m",
                GoldenModel.sharedDir().resolve("ckpt").resolve("tiny_legacy.ckpt").toString(), "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(8, g.tensors().size(), "position_ids is left out as sd.cpp does");
            assertEquals(DType.BF16, g.info("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight").dtype());
            assertArrayEquals(new long[]{8, 16}, g.info("model.diffusion_model.out.2.weight").shape());
        }
    }

    @Test
    void tensorTypeRulesPickPerTensorTypesAsSdCliDoes() {
        Path out = dir.resolve("rules.gguf");
        CliRun r = CliRun.of("-M", "convert", "-m", gguf("tiny_src.safetensors").toString(), "-o", out.toString(),
                "--type", "q8_0", "--tensor-type-rules", "attn2\\.=q4_0, ^cond_stage_model\\.=f16,attn1=f32");
        assertEquals(0, r.status(), r.err());
        String p = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.";
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(DType.Q4_0, g.info(p + "attn2.to_k.weight").dtype());
            assertEquals(DType.F32, g.info(p + "attn1.to_q.weight").dtype());
            assertEquals(DType.Q8_0, g.info(p + "ff.net.2.weight").dtype(), "no rule: --type");
            assertEquals(DType.F16, g.info("cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight").dtype());
            assertEquals(DType.F16, g.info("model.diffusion_model.out.2.weight").dtype(), "kernels keep their type");
        }
        CliRun bad = CliRun.of("-M", "convert", "-m", "in", "--tensor-type-rules", "attn2");
        assertEquals(Main.EXIT_USAGE, bad.status());
        assertTrue(bad.err().contains("--tensor-type-rules: entry 'attn2' is not PATTERN=TYPE"), bad.err());
    }

    @Test
    void usageErrors() {
        CliRun noModel = CliRun.of("-M", "convert", "-o", dir.resolve("x.gguf").toString());
        assertEquals(Main.EXIT_USAGE, noModel.status());
        assertTrue(noModel.err().contains("-m/--model"), noModel.err());
        CliRun badType = CliRun.of("-M", "convert", "-m", "in", "--type", "q9_9");
        assertEquals(Main.EXIT_USAGE, badType.status());
        assertTrue(badType.err().contains("unknown weight type 'q9_9'"), badType.err());
        CliRun prompt = CliRun.of("-M", "convert", "-m", "in", "-p", "a cat");
        assertEquals(Main.EXIT_USAGE, prompt.status());
        assertTrue(prompt.err().contains("not -p"), prompt.err());
        CliRun mode = CliRun.of("-M", "upscale", "-m", "in");
        assertEquals(Main.EXIT_USAGE, mode.status());
        assertTrue(mode.err().contains("--mode: expected img_gen or convert"), mode.err());
    }

    @Test
    void badInputIsOneErrorLineAndNoOutput() throws IOException {
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[]{1, 2, 3});
        Path out = dir.resolve("never.gguf");
        CliRun r = CliRun.of("-M", "convert", "-m", bad.toString(), "-o", out.toString());
        assertEquals(Main.EXIT_FAILURE, r.status());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("not a model file sdj reads"), r.err());
        assertFalse(Files.exists(out));
        CliRun hostile = CliRun.of("-M", "convert", "-m",
                GoldenModel.sharedDir().resolve("ckpt").resolve("hostile_reduce_os_system.ckpt").toString(), "-o",
                out.toString());
        assertEquals(Main.EXIT_FAILURE, hostile.status());
        assertTrue(hostile.err().contains("'posix.system'"), hostile.err());
        CliRun missing = CliRun.of("-M", "convert", "-m", dir.resolve("none").toString(), "-o", out.toString());
        assertEquals(Main.EXIT_FAILURE, missing.status());
        assertTrue(missing.err().contains("model file not found"), missing.err());
    }
}
