package io.sdj.cli;

import io.sdj.SdjException;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.adapters.LoraApplyMode;
import io.sdj.family.TensorTypeRule;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.Prediction;
import io.sdj.sampling.RngKind;
import io.sdj.sampling.SamplerKind;
import io.sdj.sampling.Scheduler;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The parsed {@code sdj} command line. The flags, their spellings and their defaults are those of
 * stable-diffusion.cpp's {@code sd-cli} (for the SD 1.x subset sdj implements), plus sdj's own {@code --backend},
 * {@code --tokenizer} and {@code --list-devices}. Parse with {@link #parse(String...)}; {@link #helpText()} is the
 * {@code --help} text.
 *
 * @param model            checkpoint path as given (-m); null only with --help or --list-devices
 * @param diffusionModel   --diffusion-model: the U-Net in its own file (replaces the checkpoint's), or null
 * @param vae              --vae: the VAE in its own file (replaces the checkpoint's), or null
 * @param clipL            --clip_l: CLIP ViT-L/14 in its own file, or null
 * @param clipG            --clip_g: OpenCLIP ViT-bigG/14 in its own file (SDXL), or null
 * @param tokenizer        CLIP merges file or tokenizer folder, or null to look next to the model
 * @param backend          cpu, vulkan, cuda, a device name, or best
 * @param threads          CPU threads as given; ≤ 0 means the number of physical cores
 * @param weightType       --type, or null to keep the file's weight types
 * @param prompt           the prompt ("" when not given)
 * @param negativePrompt   the negative prompt
 * @param width            -W as given; ≤ 0 means unset (the init image's width, else 512)
 * @param height           -H as given; ≤ 0 means unset (the init image's height, else 512)
 * @param steps            sampling steps
 * @param cfgScale         classifier-free guidance scale
 * @param sampler          sampling method
 * @param scheduler        sigma schedule, or null for the sampler's default (discrete; lcm for the lcm sampler)
 * @param seed             seed; negative picks a random one
 * @param rng              noise generator
 * @param initImage        init image for image-to-image, or null
 * @param strength         image-to-image strength
 * @param clipSkip         CLIP layers to skip as given; ≤ 0 means the model's default (1 for SD 1.x, 2 for SD 2.x
 *                         and SDXL)
 * @param batchCount       images to generate
 * @param output           output path, possibly with a printf-style {@code %d} for the image index
 * @param outputBeginIndex first index used in output names; negative means unset (0)
 * @param prediction       --prediction (eps or v), or null for the model's own (SD 2.x: sd.cpp's probe)
 * @param verbose          debug logging and stack traces
 * @param listDevices      list the ggml devices and exit
 * @param help             print {@link #helpText()} and exit
 * @param speed            TAESD, previews, VAE tiling and flash attention ({@link SpeedFlags})
 * @param loraModelDir     --lora-model-dir: the folder prompt tags {@code <lora:name:multiplier>} name files in, or null
 * @param loraApplyMode    --lora-apply-mode (auto, immediately, at_runtime)
 * @param tensorTypeRules  --tensor-type-rules: per-tensor weight types, first match wins (empty: none)
 * @param diffusionConvType --diffusion-conv-type: the U-Net's convolution kernels' type, or null for F16 (sd.cpp's)
 */
public record CliOptions(Path model, Path diffusionModel, Path vae, Path clipL, Path clipG, Path tokenizer, String backend, int threads, GgmlType weightType,
                         String prompt, String negativePrompt, int width, int height, int steps, float cfgScale,
                         SamplerKind sampler, Scheduler scheduler, long seed, RngKind rng, Path initImage,
                         float strength, int clipSkip, int batchCount, String output, int outputBeginIndex,
                         Prediction prediction, boolean verbose, boolean listDevices, boolean help,
                         SpeedFlags speed, Path loraModelDir, LoraApplyMode loraApplyMode,
                         List<TensorTypeRule> tensorTypeRules, GgmlType diffusionConvType) {

    /** sd-cli's default output file. */
    public static final String DEFAULT_OUTPUT = "output.png";
    /** sd-cli's default seed. */
    public static final long DEFAULT_SEED = 42;
    /** sd-cli's default size when neither -W/-H nor an init image gives one. */
    public static final int DEFAULT_SIZE = 512;
    /** sd-cli's default img2img strength. */
    public static final float DEFAULT_STRENGTH = 0.75f;

    /** Weight types --type accepts (those ggml can hold SD weights in). */
    static final List<GgmlType> WEIGHT_TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
            GgmlType.Q5_K, GgmlType.Q6_K);

    /** sd-cli flags sdj knows but does not implement; they get a clearer message than an unknown flag. */
    private static final Set<String> UNSUPPORTED = Set.of("--tae", "--control-net",
            "--embd-dir", "--upscale-model", "--upscale-repeats",
            "--offload-to-cpu", "--mmap", "--clip-on-cpu", "--vae-on-cpu", "--control-net-cpu",
            "--control-image", "--control-strength", "--mask", "--sampler-rng", "--guidance", "--eta",
            "--color", "--sigmas",
            "--t5xxl", "--llm", "--ref-image", "-r", "--canny",
            "--img-cfg-scale", "--slg-scale", "--skip-layers", "--skip-layer-start", "--skip-layer-end",
            "--timestep-shift", "--flow-shift", "--cache-mode", "--photo-maker", "--video-frames", "--fps");

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** The options with every default (no model). */
    public static CliOptions defaults() {
        return new Builder().build();
    }

    /**
     * Parses a command line. Later repetitions of a flag win, as in sd-cli.
     *
     * @throws UsageException for an unknown flag, a flag without its value, a value of the wrong form or range, a
     *                        missing -m, or --strength without -i
     */
    public static CliOptions parse(String... args) {
        Builder b = new Builder();
        Map<String, Flag> byName = flagsByName();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            Flag flag = byName.get(arg);
            if (flag == null) {
                if (UNSUPPORTED.contains(arg)) {
                    throw new UsageException("unsupported argument: " + arg + " (an sd-cli option sdj does not implement)");
                }
                throw new UsageException(arg.startsWith("-") ? "unknown argument: " + arg
                        : "unexpected argument '" + arg + "' (values follow their flag, e.g. -p \"a prompt\")");
            }
            String value = null;
            if (flag.takesValue()) {
                if (++i >= args.length) {
                    throw new UsageException(flag.longName() + ": missing value (" + flag.hint() + ")");
                }
                value = args[i];
            }
            flag.apply().accept(b, new Value(flag.longName(), value));
        }
        CliOptions o = b.build();
        o.validate(b.strengthGiven);
        return o;
    }

    private void validate(boolean strengthGiven) {
        if (help || listDevices) {
            return;
        }
        if (model == null && diffusionModel == null) {
            throw new UsageException("the following argument is required: -m/--model (or --diffusion-model)");
        }
        if (steps < 1 || steps > GenerationRequest.MAX_STEPS) {
            throw new UsageException("--steps: must be 1 to " + GenerationRequest.MAX_STEPS + ", got " + steps);
        }
        if (!(cfgScale >= 0) || Float.isInfinite(cfgScale)) {
            throw new UsageException("--cfg-scale: must be a number ≥ 0, got " + cfgScale);
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new UsageException("--strength: must be in (0, 1], got " + strength);
        }
        if (strengthGiven && initImage == null) {
            throw new UsageException("--strength applies to image-to-image only; give the init image with -i/--init-img");
        }
        if (clipSkip > GenerationRequest.MAX_CLIP_SKIP) {
            throw new UsageException("--clip-skip: must be at most " + GenerationRequest.MAX_CLIP_SKIP + ", got "
                    + clipSkip);
        }
        if (batchCount < 1 || batchCount > GenerationRequest.MAX_BATCH) {
            throw new UsageException("--batch-count: must be 1 to " + GenerationRequest.MAX_BATCH + ", got " + batchCount);
        }
        if (output.isEmpty()) {
            throw new UsageException("--output: must not be empty");
        }
        if (backend.isBlank()) {
            throw new UsageException("--backend: must not be empty (cpu, vulkan, cuda, best or a device name)");
        }
        speed.validate();
    }

    /** A -W/-H value: 1 to {@link GenerationRequest#MAX_SIZE}; the model aligns it up to its spatial multiple. */
    private static int size(Value v) {
        int n = v.asInt();
        if (n < 1 || n > GenerationRequest.MAX_SIZE) {
            throw new UsageException(v.flag() + ": must be 1 to " + GenerationRequest.MAX_SIZE + " pixels, got " + n);
        }
        return n;
    }

    /** sd-cli's --prediction values; sdj runs the LDM ones. */
    private static Prediction prediction(String name) {
        return switch (name) {
            case "eps" -> Prediction.EPS;
            case "v" -> Prediction.V;
            case "edm_v", "sd3_flow", "flux_flow", "flux2_flow" -> throw new UsageException("--prediction: " + name
                    + " is an sd-cli value for models sdj does not run; sdj takes eps or v");
            default -> throw new UsageException("--prediction: unknown value '" + name + "'; expected eps or v");
        };
    }

    /** True when -W and -H are both set (sd-cli then resizes an init image to that size). */
    public boolean sizeIsSet() {
        return width > 0 && height > 0;
    }

    /** The text-to-image size: -W/-H where set, else 512. */
    public int resolvedWidth() {
        return width > 0 ? width : DEFAULT_SIZE;
    }

    /** The text-to-image size: -W/-H where set, else 512. */
    public int resolvedHeight() {
        return height > 0 ? height : DEFAULT_SIZE;
    }

    /** The {@code --help} text. */
    public static String helpText() {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: sdj -m MODEL -p PROMPT [options]\n\n");
        sb.append("Generates images with a Stable Diffusion 1.x checkpoint (.safetensors). The flags and defaults are\n");
        sb.append("those of stable-diffusion.cpp's sd-cli; --backend, --tokenizer and --list-devices are sdj's own.\n\n");
        sb.append("Options:\n");
        List<Flag> flags = flags();
        int width = 0;
        for (Flag f : flags) {
            width = Math.max(width, f.names().length());
        }
        for (Flag f : flags) {
            String names = f.names();
            String pad = " ".repeat(width - names.length() + 3);
            sb.append("  ").append(names).append(pad);
            sb.append(wrap(f.description().replace('\n', ' '), 64, " ".repeat(width + 5))).append('\n');
        }
        sb.append("\nExit status: 0 on success, 2 for a usage error, 1 when generation fails.\n");
        return sb.toString();
    }

    /** Breaks text at spaces into lines of at most {@code columns} characters, continuation lines indented. */
    private static String wrap(String text, int columns, String indent) {
        StringBuilder sb = new StringBuilder();
        int lineLength = 0;
        for (String word : text.split(" ")) {
            if (lineLength > 0 && lineLength + 1 + word.length() > columns) {
                sb.append('\n').append(indent);
                lineLength = 0;
            } else if (lineLength > 0) {
                sb.append(' ');
                lineLength++;
            }
            sb.append(word);
            lineLength += word.length();
        }
        return sb.toString();
    }

    /** A flag's value as given (null for switches), with the flag's long name for messages. */
    private record Value(String flag, String text) {
        int asInt() {
            try {
                return Integer.parseInt(text.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(flag + ": expected an integer, got '" + text + "'");
            }
        }

        long asLong() {
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(flag + ": expected an integer, got '" + text + "'");
            }
        }

        float asFloat() {
            String t = text.trim();
            if (!DECIMAL.matcher(t).matches()) {
                throw new UsageException(flag + ": expected a number, got '" + text + "'");
            }
            float f = Float.parseFloat(t);
            if (Float.isInfinite(f)) {
                throw new UsageException(flag + ": " + text + " is out of range");
            }
            return f;
        }

        Path asPath() {
            if (text.isEmpty()) {
                throw new UsageException(flag + ": expected a path, got an empty string");
            }
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw new UsageException(flag + ": not a valid path: '" + text + "'");
            }
        }

        /** Runs a name lookup that throws sdj's InvalidParameterException, re-labelled with the flag. */
        <T> T lookup(java.util.function.Function<String, T> parser) {
            try {
                return parser.apply(text);
            } catch (SdjException e) {
                String m = e.getMessage();
                int colon = m.indexOf(": ");
                throw new UsageException(flag + ": " + (colon >= 0 ? m.substring(colon + 2) : m), e);
            }
        }
    }

    /**
     * One flag: short and long spelling, a value hint (null for a switch), the help text and what it sets.
     */
    private record Flag(String shortName, String longName, String hint, String description,
                        BiConsumer<Builder, Value> apply) {
        boolean takesValue() {
            return hint != null;
        }

        String names() {
            String n = shortName == null ? longName : shortName + ", " + longName;
            return hint == null ? n : n + " " + hint;
        }
    }

    private static Map<String, Flag> flagsByName() {
        Map<String, Flag> m = new LinkedHashMap<>();
        for (Flag f : flags()) {
            if (f.shortName() != null) {
                m.put(f.shortName(), f);
            }
            m.put(f.longName(), f);
        }
        return m;
    }

    private static List<Flag> flags() {
        String samplers = Arrays.stream(SamplerKind.values()).map(SamplerKind::cliName).collect(Collectors.joining(", "));
        String schedulers = Arrays.stream(Scheduler.values()).map(Scheduler::cliName).collect(Collectors.joining(", "));
        String rngs = Arrays.stream(RngKind.values()).map(RngKind::cliName).collect(Collectors.joining(", "));
        String types = WEIGHT_TYPES.stream().map(GgmlType::cliName).collect(Collectors.joining(", "));
        return List.of(
                new Flag("-M", "--mode", "<mode>", "img_gen (default) generates images; convert writes the model\n"
                        + "as GGUF: -M convert -m IN -o OUT.gguf [--type T]", (b, v) -> {
                    if (!v.text().equals("img_gen")) {
                        throw new UsageException("--mode: expected img_gen or convert, got '" + v.text() + "'");
                    }
                }),
                new Flag("-m", "--model", "<path>", "path to the model (SD 1.x, SD 2.x or SDXL .safetensors,\n"
                        + ".gguf or .ckpt checkpoint, a diffusers folder, or\n"
                        + "hf://org/name/file from the Hugging Face hub); required\n"
                        + "unless --diffusion-model is given",
                        (b, v) -> b.model = v.asPath()),
                new Flag(null, "--diffusion-model", "<path>", "the U-Net in its own file (LDM, bare or diffusers\n"
                        + "names); replaces the checkpoint's, or stands in for -m",
                        (b, v) -> b.diffusionModel = v.asPath()),
                new Flag(null, "--vae", "<path>", "the VAE in its own file; replaces the checkpoint's (SDXL: its\n"
                        + "convs then run at full scale, as in sd-cli)", (b, v) -> b.vae = v.asPath()),
                new Flag(null, "--clip_l", "<path>", "CLIP ViT-L/14 text encoder in its own file",
                        (b, v) -> b.clipL = v.asPath()),
                new Flag(null, "--clip_g", "<path>", "OpenCLIP ViT-bigG/14 text encoder in its own file (SDXL)",
                        (b, v) -> b.clipG = v.asPath()),
                new Flag("-p", "--prompt", "<string>", "the prompt to render (default: \"\")",
                        (b, v) -> b.prompt = v.text()),
                new Flag("-n", "--negative-prompt", "<string>", "the negative prompt (default: \"\")",
                        (b, v) -> b.negativePrompt = v.text()),
                new Flag("-W", "--width", "<int>", "image width in pixels (default: 512, or the init image's\n"
                        + "width); aligned up to the model's multiple (64)",
                        (b, v) -> b.width = size(v)),
                new Flag("-H", "--height", "<int>", "image height in pixels (default: 512, or the init image's\n"
                        + "height); aligned up like the width", (b, v) -> b.height = size(v)),
                new Flag(null, "--steps", "<int>", "number of sampling steps (default: 20)",
                        (b, v) -> b.steps = v.asInt()),
                new Flag(null, "--cfg-scale", "<float>", "unconditional guidance scale (default: 7.0)",
                        (b, v) -> b.cfgScale = v.asFloat()),
                new Flag(null, "--sampling-method", "<name>", "sampling method, one of [" + samplers + "]\n"
                        + "(default: euler_a)", (b, v) -> b.sampler = v.lookup(SamplerKind::fromName)),
                new Flag(null, "--scheduler", "<name>", "sigma schedule, one of [" + schedulers + "]\n"
                        + "(default: discrete; lcm for the lcm sampler)",
                        (b, v) -> b.scheduler = v.lookup(Scheduler::fromName)),
                new Flag("-s", "--seed", "<int>", "RNG seed (default: 42; a negative seed picks a random one)",
                        (b, v) -> b.seed = v.asLong()),
                new Flag(null, "--rng", "<name>", "noise generator, one of [" + rngs + "] (default: cuda)",
                        (b, v) -> b.rng = v.lookup(RngKind::fromName)),
                new Flag(null, "--type", "<type>", "convert weights on load to this type, one of [" + types + "]\n"
                        + "(default: the file's type)", (b, v) -> b.weightType = v.lookup(CliOptions::weightType)),
                new Flag(null, "--tensor-type-rules", "<rules>", "weight type per tensor pattern, first match wins\n"
                        + "(example: \"^first_stage_model\\.=f16,model\\.diffusion_model\\.=q8_0\");\n"
                        + "patterns are searched in the checkpoint's tensor names",
                        (b, v) -> b.tensorTypeRules = v.lookup(TensorTypeRule::parse)),
                new Flag(null, "--diffusion-conv-type", "<type>", "sdj only: the U-Net's convolution kernels in this\n"
                        + "type (default: f16, as sd-cli); q8_0/q4_0 make the U-Net\n"
                        + "smaller and faster on CPUs, and images differ from sd-cli's",
                        (b, v) -> b.diffusionConvType = v.lookup(CliOptions::weightType)),
                new Flag(null, "--lora-model-dir", "<dir>", "folder of the LoRA files that prompt tags\n"
                        + "<lora:name:multiplier> name (default: none; tags stay in the prompt)",
                        (b, v) -> b.loraModelDir = v.asPath()),
                new Flag(null, "--lora-apply-mode", "<mode>", "auto, immediately or at_runtime (default: auto:\n"
                        + "at run time for quantized weights, merged at load otherwise)",
                        (b, v) -> b.loraApplyMode = v.lookup(LoraApplyMode::parse)),
                new Flag("-i", "--init-img", "<path>", "init image for image-to-image (default: none)",
                        (b, v) -> b.initImage = v.asPath()),
                new Flag(null, "--strength", "<float>", "image-to-image strength in (0, 1]: how much of the init\n"
                        + "image is replaced by noise (default: 0.75; needs -i)", (b, v) -> {
                    b.strength = v.asFloat();
                    b.strengthGiven = true;
                }),
                new Flag(null, "--clip-skip", "<int>", "CLIP layers to skip: 1 uses the last layer, 2 the one before\n"
                        + "(default: -1; <= 0 means 1 for SD 1.x, 2 for SD 2.x and SDXL)",
                        (b, v) -> b.clipSkip = v.asInt()),
                new Flag(null, "--prediction", "<type>", "what the model predicts: eps or v (default: the model's;\n"
                        + "for SD 2.x a probe pass decides, as in sd-cli)",
                        (b, v) -> b.prediction = prediction(v.text())),
                new Flag("-b", "--batch-count", "<int>", "number of images to generate; image i uses seed + i\n"
                        + "(default: 1)", (b, v) -> b.batchCount = v.asInt()),
                new Flag("-t", "--threads", "<int>", "CPU threads (default: -1; <= 0 means the number of physical\n"
                        + "CPU cores; more than the available processors are cut to them)", (b, v) -> b.threads = v.asInt()),
                new Flag("-o", "--output", "<path>", "where to write the image (default: ./output.png). A batch\n"
                        + "writes NAME_0.png, NAME_1.png, ...; a printf-style %d (e.g.\n"
                        + "out_%03d.png) numbers every image instead",
                        (b, v) -> b.output = v.text()),
                new Flag(null, "--output-begin-idx", "<int>", "first index in output names, >= 0 (default: 0)",
                        (b, v) -> {
                            int n = v.asInt();
                            if (n < 0) {
                                throw new UsageException(v.flag() + ": must be non-negative, got " + n);
                            }
                            b.outputBeginIndex = n;
                        }),
                new Flag(null, "--backend", "<name>", "where to compute: cpu, vulkan, cuda, a device name such as\n"
                        + "Vulkan0, or best = the first hardware GPU, else the CPU\n(default: best)",
                        (b, v) -> b.backend = v.text()),
                new Flag(null, "--tokenizer", "<path>", "CLIP merges.txt, or a folder holding it (default: a\n"
                        + "tokenizer/ folder or merges.txt next to the model, else CLIP's\n"
                        + "from the Hugging Face cache, downloaded once)",
                        (b, v) -> b.tokenizer = v.asPath()),
                new Flag(null, "--taesd", "<path>", "TAESD tiny autoencoder (.safetensors, diffusers AutoencoderTiny\n"
                        + "layout): replaces the VAE for decoding and img2img encoding",
                        (b, v) -> b.speed.taesd = v.asPath()),
                new Flag(null, "--taesd-preview-only", null, "use TAESD only for previews; the VAE decodes the final\n"
                        + "image (for use with --preview tae)", (b, v) -> b.speed.taesdPreviewOnly = true),
                new Flag(null, "--preview", "<method>", "preview method, one of [none, proj, tae, vae] (default: none;\n"
                        + "proj: the latent projected to RGB, 1/8 size)", (b, v) -> b.speed.preview(v.flag(), v.text())),
                new Flag(null, "--preview-path", "<path>", "where the preview is written, overwritten at every model\n"
                        + "call (default: ./preview.png)", (b, v) -> b.speed.previewPath = v.text()),
                new Flag(null, "--preview-interval", "<int>", "accepted as in sd-cli; as in sd.cpp the preview is\n"
                        + "updated at every model call (default: 1)", (b, v) -> {
                    int n = v.asInt();
                    if (n < 1) {
                        throw new UsageException(v.flag() + ": must be at least 1, got " + n);
                    }
                    b.speed.previewInterval = n;
                }),
                new Flag(null, "--preview-noisy", null, "preview the noisy model input instead of the denoised\n"
                        + "estimate", (b, v) -> b.speed.previewNoisy = true),
                new Flag(null, "--vae-tiling", null, "decode and encode in tiles to bound memory (sdj also tiles\n"
                        + "on its own when the whole image would not fit)", (b, v) -> b.speed.vaeTiling = true),
                new Flag(null, "--vae-tile-size", "<XxY>", "tile size in latent pixels (default: 32x32)",
                        (b, v) -> b.speed.tileSize = SpeedFlags.intPair(v.flag(), v.text())),
                new Flag(null, "--vae-relative-tile-size", "<XxY>", "tile size as a fraction of the latent (<= 1)\n"
                        + "or a number of tiles per axis (> 1); overrides --vae-tile-size",
                        (b, v) -> b.speed.relativeTileSize = SpeedFlags.floatPair(v.flag(), v.text())),
                new Flag(null, "--vae-tile-overlap", "<float>", "tile overlap, a fraction of the tile, used clamped\n"
                        + "to [0, 0.5] (default: 0.5)", (b, v) -> b.speed.tileOverlap = v.asFloat()),
                new Flag(null, "--diffusion-fa", null, "flash attention (ggml_flash_attn_ext) in the diffusion\n"
                        + "model: less memory; k and v are rounded to f16 (sdj's default on the CPU)",
                        (b, v) -> b.speed.diffusionFa = true),
                new Flag(null, "--fa", null, "flash attention in every model with attention (U-Net and VAE)",
                        (b, v) -> b.speed.fa = true),
                new Flag(null, "--no-fa", null, "regular attention everywhere, as sd-cli without the flash\n"
                        + "flags (sdj otherwise uses flash attention in the U-Net on the CPU)",
                        (b, v) -> b.speed.noFa = true),
                new Flag(null, "--no-blas", null, "sdj only: keep the CPU's matrix products in ggml's own\n"
                        + "kernels instead of the runtime's BLAS (OpenBLAS), as sd-cli\n"
                        + "built without BLAS; slower, and closer to its images",
                        (b, v) -> b.speed.noBlas = true),
                new Flag(null, "--blas-quantized", null, "sdj only: hand quantized U-Nets and text encoders to BLAS\n"
                        + "too (by default they keep ggml's kernels and sd-cli's exact\n"
                        + "quantized numerics): ~2.5x faster steps at q4_0, other images",
                        (b, v) -> b.speed.blasQuantized = true),
                new Flag(null, "--vae-conv-direct", null, "convolve in the VAE with ggml_conv_2d_direct: no im2col\n"
                        + "buffer (on the CPU: same pixels, 2.6x less compute memory; sdj switches to it on its\n"
                        + "own when the im2col buffers would be the peak of the run)",
                        (b, v) -> b.speed.vaeConvDirect = true),
                new Flag(null, "--list-devices", null, "list the compute devices ggml sees and exit",
                        (b, v) -> b.listDevices = true),
                new Flag("-v", "--verbose", null, "print extra info (debug log, stack traces on errors)",
                        (b, v) -> b.verbose = true),
                new Flag("-h", "--help", null, "show this help message and exit", (b, v) -> b.help = true));
    }

    private static GgmlType weightType(String name) {
        GgmlType t = GgmlType.fromName("type", name);
        if (!WEIGHT_TYPES.contains(t)) {
            throw new UsageException("--type: " + t.cliName() + " is not a weight type; expected one of "
                    + WEIGHT_TYPES.stream().map(GgmlType::cliName).collect(Collectors.joining(", ")));
        }
        return t;
    }

    /** Mutable state while parsing; every field starts at sd-cli's default. */
    private static final class Builder {
        private Path model;
        private Path diffusionModel;
        private Path vae;
        private Path clipL;
        private Path clipG;
        private Path tokenizer;
        private String backend = "best";
        private int threads = -1;
        private GgmlType weightType;
        private String prompt = "";
        private String negativePrompt = "";
        private int width = -1;
        private int height = -1;
        private int steps = 20;
        private float cfgScale = 7.0f;
        private SamplerKind sampler = SamplerKind.EULER_A;
        private Scheduler scheduler;
        private long seed = DEFAULT_SEED;
        private RngKind rng = RngKind.CUDA;
        private Path initImage;
        private float strength = DEFAULT_STRENGTH;
        private boolean strengthGiven;
        private int clipSkip = -1;
        private int batchCount = 1;
        private String output = DEFAULT_OUTPUT;
        private int outputBeginIndex = -1;
        private Prediction prediction;
        private boolean verbose;
        private boolean listDevices;
        private boolean help;
        private final SpeedFlags.Builder speed = new SpeedFlags.Builder();
        private Path loraModelDir;
        private LoraApplyMode loraApplyMode = LoraApplyMode.AUTO;
        private List<TensorTypeRule> tensorTypeRules = List.of();
        private GgmlType diffusionConvType;

        CliOptions build() {
            return new CliOptions(model, diffusionModel, vae, clipL, clipG, tokenizer, backend, threads, weightType, prompt, negativePrompt, width,
                    height, steps, cfgScale, sampler, scheduler, seed, rng, initImage, strength, clipSkip, batchCount,
                    output, outputBeginIndex, prediction, verbose, listDevices, help, speed.build(),
                    loraModelDir, loraApplyMode, tensorTypeRules, diffusionConvType);
        }
    }
}
