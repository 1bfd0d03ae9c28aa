package io.sdj.cli;

import io.sdj.image.ImageParameters;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.RngKind;
import io.sdj.sampling.SamplerKind;
import io.sdj.sampling.Scheduler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliOptionsTest {

    @Test
    void defaultsAreSdClis() {
        CliOptions o = CliOptions.parse("-m", "model.safetensors");
        assertEquals(Path.of("model.safetensors"), o.model());
        assertEquals("", o.prompt());
        assertEquals("", o.negativePrompt());
        assertEquals(512, o.resolvedWidth());
        assertEquals(512, o.resolvedHeight());
        assertFalse(o.sizeIsSet());
        assertEquals(20, o.steps());
        assertEquals(7.0f, o.cfgScale());
        assertEquals(SamplerKind.EULER_A, o.sampler());
        assertNull(o.scheduler(), "unset: the sampler's default");
        assertEquals(42, o.seed());
        assertEquals(RngKind.CUDA, o.rng());
        assertEquals(0.75f, o.strength());
        assertEquals(-1, o.clipSkip());
        assertEquals(1, o.batchCount());
        assertEquals(-1, o.threads());
        assertEquals("output.png", o.output());
        assertEquals(-1, o.outputBeginIndex());
        assertNull(o.weightType());
        assertNull(o.initImage());
        assertNull(o.tokenizer());
        assertEquals("best", o.backend());
        assertFalse(o.verbose());
        assertFalse(o.help());
        assertFalse(o.listDevices());
    }

    @Test
    void defaultsAgreeWithTheRequestAndMetadataDefaults() {
        CliOptions o = CliOptions.parse("-m", "m.safetensors");
        GenerationRequest cli = Main.request(o);
        GenerationRequest api = GenerationRequest.builder("").build();
        assertEquals(api, cli);
        assertEquals(Scheduler.DISCRETE, cli.scheduler());
        String expected = ImageParameters.builder().model("m.safetensors").build().toInfotext();
        assertEquals(expected, Main.metadata(o, cli, 42));
    }

    @Test
    void lcmSamplerDefaultsToTheLcmSchedule() {
        CliOptions o = CliOptions.parse("-m", "m", "--sampling-method", "lcm");
        assertEquals(Scheduler.LCM, Main.request(o).scheduler());
    }

    static Stream<Arguments> flags() {
        return Stream.of(
                flag("-m", "--model", "dir/x.safetensors", CliOptions::model, Path.of("dir/x.safetensors")),
                flag("-p", "--prompt", "a (lovely:1.2) cat", CliOptions::prompt, "a (lovely:1.2) cat"),
                flag("-n", "--negative-prompt", "-blurry", CliOptions::negativePrompt, "-blurry"),
                flag("-W", "--width", "768", CliOptions::width, 768),
                flag("-H", "--height", "640", CliOptions::height, 640),
                flag(null, "--steps", "4", CliOptions::steps, 4),
                flag(null, "--cfg-scale", "7.5", CliOptions::cfgScale, 7.5f),
                flag(null, "--sampling-method", "dpm++2m", CliOptions::sampler, SamplerKind.DPMPP2M),
                flag(null, "--scheduler", "karras", CliOptions::scheduler, Scheduler.KARRAS),
                flag("-s", "--seed", "-7", CliOptions::seed, -7L),
                flag("-s", "--seed", "12345678901", CliOptions::seed, 12345678901L),
                flag(null, "--rng", "cpu", CliOptions::rng, RngKind.CPU),
                flag(null, "--rng", "std_default", CliOptions::rng, RngKind.STD_DEFAULT),
                flag(null, "--type", "q8_0", CliOptions::weightType, GgmlType.Q8_0),
                flag(null, "--type", "q4_K", CliOptions::weightType, GgmlType.Q4_K),
                flag(null, "--diffusion-conv-type", "q8_0", CliOptions::diffusionConvType, GgmlType.Q8_0),
                flag(null, "--tensor-type-rules", "^first_stage_model\\.=f16,attn=q8_0",
                        o -> io.sdj.family.TensorTypeRule.format(o.tensorTypeRules()), "^first_stage_model\\.=f16,attn=q8_0"),
                flag("-i", "--init-img", "init.png", CliOptions::initImage, Path.of("init.png")),
                flag(null, "--clip-skip", "2", CliOptions::clipSkip, 2),
                flag("-b", "--batch-count", "3", CliOptions::batchCount, 3),
                flag("-t", "--threads", "6", CliOptions::threads, 6),
                flag("-o", "--output", "out/img_%03d.png", CliOptions::output, "out/img_%03d.png"),
                flag(null, "--output-begin-idx", "5", CliOptions::outputBeginIndex, 5),
                flag(null, "--backend", "vulkan", CliOptions::backend, "vulkan"),
                flag(null, "--tokenizer", "tok/merges.txt", CliOptions::tokenizer, Path.of("tok/merges.txt")));
    }

    private static Arguments flag(String shortName, String longName, String value, Function<CliOptions, Object> get,
                                  Object expected) {
        return Arguments.of(shortName, longName, value, get, expected);
    }

    @ParameterizedTest(name = "{1} {2}")
    @MethodSource("flags")
    void everyFlagAndAliasSetsItsOption(String shortName, String longName, String value,
                                        Function<CliOptions, Object> get, Object expected) {
        String[] base = longName.equals("--model") ? new String[0] : new String[]{"-m", "m.safetensors"};
        // image-to-image options need their init image
        String[] extra = longName.equals("--init-img") ? new String[0] : new String[]{"-i", "x.png"};
        assertEquals(expected, get.apply(CliOptions.parse(concat(base, extra, new String[]{longName, value}))));
        if (shortName != null) {
            assertEquals(expected, get.apply(CliOptions.parse(concat(base, extra, new String[]{shortName, value}))));
        }
    }

    @Test
    void strengthNeedsAnInitImage() {
        CliOptions o = CliOptions.parse("-m", "m", "-i", "x.png", "--strength", "0.6");
        assertEquals(0.6f, o.strength());
        UsageException e = assertThrows(UsageException.class, () -> CliOptions.parse("-m", "m", "--strength", "0.6"));
        assertTrue(e.getMessage().contains("-i/--init-img"), e.getMessage());
    }

    @Test
    void switches() {
        assertTrue(CliOptions.parse("-m", "m", "-v").verbose());
        assertTrue(CliOptions.parse("-m", "m", "--verbose").verbose());
        assertTrue(CliOptions.parse("-h").help());
        assertTrue(CliOptions.parse("--help").help());
        assertTrue(CliOptions.parse("--list-devices").listDevices());
    }

    @Test
    void componentFilesAsSdCliTakesThem() {
        CliOptions o = CliOptions.parse("--diffusion-model", "unet.gguf", "--vae", "vae.safetensors", "--clip_l", "l.st",
                "--clip_g", "g.st");
        assertEquals(null, o.model());
        assertEquals(java.nio.file.Path.of("unet.gguf"), o.diffusionModel());
        assertEquals(java.nio.file.Path.of("vae.safetensors"), o.vae());
        assertEquals(java.nio.file.Path.of("l.st"), o.clipL());
        assertEquals(java.nio.file.Path.of("g.st"), o.clipG());
        CliOptions m = CliOptions.parse("-m", "sd.safetensors", "--vae", "v.st");
        assertEquals(java.nio.file.Path.of("sd.safetensors"), m.model());
        assertEquals(java.nio.file.Path.of("v.st"), m.vae());
        assertEquals(null, m.diffusionModel());
    }

    @Test
    void theLastRepetitionWins() {
        CliOptions o = CliOptions.parse("-m", "a", "--steps", "3", "-m", "b", "--steps", "5");
        assertEquals(Path.of("b"), o.model());
        assertEquals(5, o.steps());
    }

    @Test
    void valuesMayLookLikeFlags() {
        assertEquals("--steps", CliOptions.parse("-m", "m", "-p", "--steps").prompt());
    }

    @Test
    void sizeIsSetOnlyWithBoth() {
        assertFalse(CliOptions.parse("-m", "m", "-W", "128").sizeIsSet());
        CliOptions o = CliOptions.parse("-m", "m", "-W", "128");
        assertEquals(128, o.resolvedWidth());
        assertEquals(512, o.resolvedHeight());
        assertTrue(CliOptions.parse("-m", "m", "-W", "128", "-H", "64").sizeIsSet());
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                bad("unknown argument: --frobnicate", "-m", "m", "--frobnicate"),
                bad("unexpected argument 'cat'", "-m", "m", "cat"),
                bad("--steps: missing value", "-m", "m", "--steps"),
                bad("--steps: expected an integer, got 'abc'", "-m", "m", "--steps", "abc"),
                bad("--steps: expected an integer, got '12abc'", "-m", "m", "--steps", "12abc"),
                bad("--width: expected an integer, got '1.5'", "-m", "m", "-W", "1.5"),
                bad("--seed: expected an integer, got '4.2'", "-m", "m", "-s", "4.2"),
                bad("--cfg-scale: expected a number, got 'seven'", "-m", "m", "--cfg-scale", "seven"),
                bad("--cfg-scale: expected a number, got '7f'", "-m", "m", "--cfg-scale", "7f"),
                bad("--cfg-scale: expected a number, got 'NaN'", "-m", "m", "--cfg-scale", "NaN"),
                bad("--cfg-scale: must be a number ≥ 0", "-m", "m", "--cfg-scale", "-1"),
                bad("--sampling-method: unknown sampler 'euler_b'", "-m", "m", "--sampling-method", "euler_b"),
                bad("--scheduler: unknown scheduler 'gits'", "-m", "m", "--scheduler", "gits"),
                bad("--rng: unknown RNG 'gpu'", "-m", "m", "--rng", "gpu"),
                bad("--type: unknown weight type 'q9_0'", "-m", "m", "--type", "q9_0"),
                bad("--type: i32 is not a weight type", "-m", "m", "--type", "i32"),
                bad("--diffusion-conv-type: i32 is not a weight type", "-m", "m", "--diffusion-conv-type", "i32"),
                bad("--diffusion-conv-type: unknown weight type 'q9'", "-m", "m", "--diffusion-conv-type", "q9"),
                bad("--tensor-type-rules: entry 'attn' is not PATTERN=TYPE", "-m", "m", "--tensor-type-rules", "attn"),
                bad("--tensor-type-rules: entry 'a(=q8_0': 'a(' is not a regular expression", "-m", "m",
                        "--tensor-type-rules", "a(=q8_0"),
                bad("--width: must be 1 to 16384 pixels, got -5", "-m", "m", "-W", "-5"),
                bad("--height: must be 1 to 16384 pixels, got 0", "-m", "m", "-H", "0"),
                bad("--width: must be 1 to 16384 pixels, got 100000", "-m", "m", "-W", "100000"),
                bad("--steps: must be 1 to 1000, got 0", "-m", "m", "--steps", "0"),
                bad("--steps: must be 1 to 1000, got 1001", "-m", "m", "--steps", "1001"),
                bad("--prediction: unknown value 'x0'", "-m", "m", "--prediction", "x0"),
                bad("--prediction: flux_flow is an sd-cli value", "-m", "m", "--prediction", "flux_flow"),
                bad("--strength: must be in (0, 1]", "-m", "m", "-i", "x.png", "--strength", "1.5"),
                bad("--strength: must be in (0, 1]", "-m", "m", "-i", "x.png", "--strength", "0"),
                bad("--clip-skip: must be at most 64", "-m", "m", "--clip-skip", "65"),
                bad("--batch-count: must be 1 to 256, got 0", "-m", "m", "-b", "0"),
                bad("--batch-count: must be 1 to 256, got 1000", "-m", "m", "-b", "1000"),
                bad("--output-begin-idx: must be non-negative", "-m", "m", "--output-begin-idx", "-1"),
                bad("--output: must not be empty", "-m", "m", "-o", ""),
                bad("--model: expected a path", "-m", ""),
                bad("required: -m/--model", "-p", "a cat"),
                bad("unsupported argument: --control-net", "-m", "m", "--control-net", "cn.safetensors"),
                bad("--vae: missing value", "-m", "m", "--vae"),
                bad("required: -m/--model (or --diffusion-model)", "--vae", "vae.safetensors"),
                bad("--lora-apply-mode: must be auto, immediately or at_runtime, got 'later'", "-m", "m",
                        "--lora-apply-mode", "later"),
                bad("unsupported argument: --embd-dir", "-m", "m", "--embd-dir", "embeddings"));
    }

    @Test
    void loraFlags() {
        CliOptions o = CliOptions.parse("-m", "m", "--lora-model-dir", "loras", "--lora-apply-mode", "at_runtime");
        assertEquals(java.nio.file.Path.of("loras"), o.loraModelDir());
        assertEquals(io.sdj.adapters.LoraApplyMode.AT_RUNTIME, o.loraApplyMode());
        assertEquals(io.sdj.adapters.LoraApplyMode.AUTO, CliOptions.parse("-m", "m").loraApplyMode());
        assertEquals(null, CliOptions.parse("-m", "m").loraModelDir());
    }

    private static Arguments bad(String message, String... args) {
        return Arguments.of(message, args);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCommandLines")
    void badCommandLinesNameTheProblem(String message, String[] args) {
        UsageException e = assertThrows(UsageException.class, () -> CliOptions.parse(args));
        assertTrue(e.getMessage().contains(message), () -> "'" + e.getMessage() + "' lacks '" + message + "'");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void helpListsEveryFlagWithItsDefault() {
        String help = CliOptions.helpText();
        for (String name : new String[]{"-m, --model", "-p, --prompt", "-n, --negative-prompt", "-W, --width",
                "-H, --height", "--steps", "--cfg-scale", "--sampling-method", "--scheduler", "-s, --seed", "--rng",
                "--type", "--tensor-type-rules", "--diffusion-conv-type", "-i, --init-img", "--strength", "--clip-skip", "-b, --batch-count", "-t, --threads",
                "-o, --output", "--output-begin-idx", "--backend", "--tokenizer", "--list-devices", "-v, --verbose",
                "-h, --help"}) {
            assertTrue(help.contains("  " + name + " ") || help.contains("  " + name + "\n"), name);
        }
        for (String def : new String[]{"(default: 20)", "(default: 7.0)", "(default: euler_a)", "default: 42",
                "(default: cuda)", "default: 0.75", "(default: -1;", "default: ./output.png", "(default: best)",
                "(default: 512"}) {
            assertTrue(help.contains(def), def);
        }
        for (String line : help.split("\n")) {
            assertTrue(line.length() <= 120, () -> "too long: " + line);
        }
    }

    private static String[] concat(String[]... parts) {
        return Stream.of(parts).flatMap(Stream::of).toArray(String[]::new);
    }
}
