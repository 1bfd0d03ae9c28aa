package io.sdj.cli;

import io.sdj.InvalidParameterException;
import io.sdj.SdjException;
import io.sdj.hub.HubClient;
import io.sdj.hub.HubFileRef;
import io.sdj.image.ImageParameters;
import io.sdj.image.PngInfo;
import io.sdj.model.DiffusersFolder;
import io.sdj.pipeline.CancellationToken;
import io.sdj.pipeline.GeneratedImage;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.pipeline.GenerationResult;
import io.sdj.pipeline.PreviewListener;
import io.sdj.pipeline.ProgressListener;
import io.sdj.pipeline.StableDiffusion;
import io.sdj.pipeline.Timings;
import io.sdj.pipeline.WeightResidency;
import io.sdj.runtime.Backend;
import io.sdj.runtime.DeviceInfo;
import io.sdj.runtime.UnknownBackendException;
import io.sdj.text.LoraTag;
import io.sdj.text.TokenizerFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code sdj} command: stable-diffusion.cpp's {@code sd-cli} for SD 1.x, SD 2.x and SDXL on the JVM (flags in {@link CliOptions}).
 * Progress goes to stderr, the summary (where each image went, per-phase timings) to stdout. Every failure is one
 * line on stderr, {@code sdj: error: ...}, with exit status {@value #EXIT_USAGE} for a wrong command line and
 * {@value #EXIT_FAILURE} when generation fails (missing or unusable files included); {@code -v} adds the stack trace.
 */
public final class Main {
    /** Exit status of a successful run. */
    public static final int EXIT_OK = 0;
    /** Exit status when loading or generating fails. */
    public static final int EXIT_FAILURE = 1;
    /** Exit status for a wrong command line. */
    public static final int EXIT_USAGE = 2;

    private static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command in this JVM and returns its exit status; never calls {@link System#exit}.
     *
     * @param args the command line (without the program name)
     * @param out  where the summary, --help and --list-devices go
     * @param err  where progress and errors go
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("runtime")) { // sdj runtime install|path: no model, no ggml
            return RuntimeCommand.run(List.of(args).subList(1, args.length), out, err);
        }
        // before anything can create a logger: slf4j-simple reads its settings once
        boolean verbose = List.of(args).contains("-v") || List.of(args).contains("--verbose");
        configureLogging(verbose);
        if (ConvertCommand.requested(args)) {
            return convert(args, out, err, verbose);
        }
        CliOptions options;
        try {
            options = CliOptions.parse(args);
        } catch (UsageException e) {
            return fail(new UsageException(e.getMessage() + " (see sdj --help)", e), EXIT_USAGE, verbose, err);
        }
        if (options.help()) {
            out.print(CliOptions.helpText());
            out.flush();
            return EXIT_OK;
        }
        ProgressPrinter progress = new ProgressPrinter(err, isTerminal(err), options.batchCount());
        try {
            if (options.listDevices()) {
                return listDevices(out);
            }
            return generate(options, out, err, progress);
        } catch (UsageException | InvalidParameterException | UnknownBackendException e) {
            progress.endLine();
            return fail(e, EXIT_USAGE, options.verbose(), err);
        } catch (SdjException | UncheckedIOException e) {
            progress.endLine();
            return fail(e, EXIT_FAILURE, options.verbose(), err);
        } catch (OutOfMemoryError e) {
            progress.endLine();
            return fail(new SdjException("out of Java heap memory (raise the limit, e.g. SDJ_JAVA_OPTS=-Xmx8g)", e),
                    EXIT_FAILURE, options.verbose(), err);
        } catch (RuntimeException | LinkageError e) {
            progress.endLine();
            return fail(new SdjException("internal error: " + e, e), EXIT_FAILURE, options.verbose(), err);
        }
    }

    private static int generate(CliOptions o, PrintStream out, PrintStream err, ProgressPrinter progress) {
        Logger log = LoggerFactory.getLogger(Main.class);
        long start = System.nanoTime();
        HubClient hub = HubClient.fromEnvironment().withListener(new DownloadPrinter(err, isTerminal(err)));
        Path model = o.model() == null ? null : modelPath(o.model(), hub);
        if (model != null && !Files.exists(model)) {
            throw new SdjException("model file not found: " + model);
        }
        if (model != null && !Files.isRegularFile(model) && !DiffusersFolder.looksLike(model)) {
            throw new SdjException("model is not a file or a diffusers folder: " + model);
        }
        checkComponent("--diffusion-model", o.diffusionModel());
        checkComponent("--vae", o.vae());
        checkComponent("--clip_l", o.clipL());
        checkComponent("--clip_g", o.clipG());
        if (o.tokenizer() != null && !Files.exists(o.tokenizer())) {
            throw new SdjException("tokenizer not found: " + o.tokenizer());
        }
        GenerationRequest request = request(o);
        if (o.loraModelDir() == null && !LoraTag.extract(o.prompt()).tags().isEmpty()) {
            log.warn("no --lora-model-dir: the <lora:...> tags stay in the prompt text and no LoRA is applied (as in"
                    + " sd-cli)");
        }
        log.debug("options: {}", o);

        StableDiffusion.Builder builder = StableDiffusion.builder().model(model).diffusionModel(o.diffusionModel())
                .vae(o.vae()).clipL(o.clipL()).clipG(o.clipG()).backend(o.backend())
                .threads(o.threads()).weightType(o.weightType()).tensorTypeRules(o.tensorTypeRules())
                .diffusionConvType(o.diffusionConvType()).prediction(o.prediction()).listener(progress)
                .loraModelDir(o.loraModelDir()).loraApplyMode(o.loraApplyMode())
                .residency(WeightResidency.ON_DEMAND) // one generation: each part loaded when needed, then freed
                .firstStage(o.speed().firstStage(previewWriter(Path.of(o.speed().previewPath()), log)))
                .flashAttention(o.speed().unetFlash(), o.speed().vaeFlash())
                .vaeConvolution(o.speed().vaeConvolution()).blas(o.speed().blasUse());
        // the model's own tokenizer files, else CLIP's from the hub cache (downloaded once, with progress)
        builder.tokenizer(o.tokenizer() != null ? o.tokenizer() : TokenizerFiles.locate(model != null ? model : o.diffusionModel(), hub).path());
        try (StableDiffusion sd = builder.build()) {
            GenerationResult result = sd.generate(request, withPreviews(o, progress), new CancellationToken());
            progress.endLine();
            out.printf(Locale.ROOT, "model: %s, %s-prediction, latent %s, %s attention in the U-Net%s%n",
                    sd.family().displayName(), sd.prediction().name().toLowerCase(Locale.ROOT), sd.latentFormat(),
                    sd.unetFlashAttention() ? "flash" : "regular",
                    sd.blas() ? ", matrix products in " + sd.matrixProducts() : "");
            List<String> names = OutputNames.names(o.output(), result.images().size(), o.outputBeginIndex());
            List<String> saved = new ArrayList<>();
            for (GeneratedImage image : result.images()) {
                String name = names.get(image.index());
                write(image.image(), metadata(o, result.request(), image.seed()), name);
                saved.add(name);
                out.printf(Locale.ROOT, "saved %s (seed %d, %dx%d)%n", name, image.seed(), image.image().getWidth(),
                        image.image().getHeight());
            }
            out.println(summary(sd, result.timings(), result.images().size(), (System.nanoTime() - start) / 1e9,
                    sd.device()));
            out.flush();
        }
        return EXIT_OK;
    }

    /**
     * The model file: {@code -m} as given, or for a hub reference {@code hf://org/name/path} (which a command-line
     * path spells {@code hf:/org/name/path}) and no such local file, the file resolved through the hub cache.
     */
    private static void checkComponent(String flag, Path file) {
        if (file != null && !Files.isRegularFile(file)) {
            throw new SdjException(flag + (Files.exists(file) ? " is not a file: " : " file not found: ") + file);
        }
    }

    static Path modelPath(Path given, HubClient hub) {
        String s = given.toString();
        if (s.startsWith("hf:/") && !Files.exists(given)) {
            return hub.resolve(HubFileRef.parse(HubFileRef.SCHEME + s.substring("hf:/".length())));
        }
        return given;
    }

    /** Writes each preview over the same PNG (no text chunk, as sd-cli); a failed write is logged, not fatal. */
    static PreviewListener previewWriter(Path path, Logger log) {
        return (image, call, noisy) -> {
            try {
                if (!ImageIO.write(image, "png", path.toFile())) {
                    log.error("save preview image to '{}' failed: no PNG writer", path);
                }
            } catch (IOException e) {
                log.error("save preview image to '{}' failed: {}", path, e.getMessage());
            }
        };
    }

    /** The progress printer, with --preview proj writing each preview to --preview-path. */
    private static ProgressListener withPreviews(CliOptions o, ProgressPrinter progress) {
        if (o.speed().preview() != io.sdj.pipeline.PreviewMode.PROJ) {
            return progress;
        }
        Path path = Path.of(o.speed().previewPath());
        return ProgressListener.withPreviews(progress, o.speed().previewInterval(), p -> {
            try {
                Path parent = path.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                if (!ImageIO.write(p.rgb(), OutputNames.formatOf(o.speed().previewPath()) == OutputNames.Format.JPEG
                        ? "jpeg" : "png", path.toFile())) {
                    throw new SdjException("cannot write preview " + path + ": no image writer");
                }
            } catch (IOException e) {
                throw new SdjException("cannot write preview " + path + ": " + e, e);
            }
        });
    }

    /** The request for the options: size from -W/-H, else from the init image, else 512. */
    static GenerationRequest request(CliOptions o) {
        GenerationRequest.Builder b = GenerationRequest.builder(o.prompt()).negativePrompt(o.negativePrompt())
                .steps(o.steps()).cfgScale(o.cfgScale()).sampler(o.sampler()).scheduler(o.scheduler())
                .seed(o.seed()).rng(o.rng()).clipSkip(o.clipSkip()).batchCount(o.batchCount());
        int width = o.resolvedWidth();
        int height = o.resolvedHeight();
        if (o.initImage() != null) {
            BufferedImage init = InitImage.read(o.initImage());
            if (o.sizeIsSet()) {
                init = InitImage.cropToAspect(init, width, height);
            } else {
                width = init.getWidth();
                height = init.getHeight();
            }
            b.initImage(init).strength(o.strength());
        }
        return b.size(width, height).build();
    }

    /** The "parameters" text sd-cli writes for one image. */
    static String metadata(CliOptions o, GenerationRequest r, long seed) {
        return ImageParameters.builder()
                .prompt(o.prompt())
                .negativePrompt(o.negativePrompt())
                .steps(o.steps())
                .cfgScale(o.cfgScale())
                .seed(seed)
                .size(r.width(), r.height())
                .model((o.model() != null ? o.model() : o.diffusionModel()).toString())
                .taesd(o.speed().taesd() == null ? null : o.speed().taesd().toString())
                .rng(o.rng().cliName())
                .sampleMethod(o.sampler().cliName())
                .scheduler(r.scheduler().cliName())
                .clipSkip(o.clipSkip())
                .strength(o.strength())
                .generator(ImageParameters.Generator.SDJ)
                .build()
                .toInfotext();
    }

    private static void write(BufferedImage image, String parameters, String name) {
        Path path = Path.of(name);
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (OutputNames.formatOf(name) == OutputNames.Format.JPEG) {
                writeJpeg(image, path);
            } else {
                PngInfo.write(image, parameters, path);
            }
        } catch (IOException e) {
            throw new SdjException("cannot write " + name + ": " + e, e);
        }
    }

    private static void writeJpeg(BufferedImage image, Path path) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        Files.deleteIfExists(path);
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(path.toFile())) {
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.9f);
            writer.setOutput(ios);
            writer.write(null, new IIOImage(image, null, null), p);
        } finally {
            writer.dispose();
        }
    }

    /** One line: per-phase seconds, seconds per sampling step and the device. */
    static String summary(StableDiffusion sd, Timings t, int images, double totalSeconds, DeviceInfo device) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "timings: load %.2fs, text encoding %.2fs, ", sd.loadSeconds(),
                t.textEncoding()));
        if (t.imageEncoding() > 0) {
            sb.append(String.format(Locale.ROOT, "image encoding %.2fs, ", t.imageEncoding()));
        }
        sb.append(String.format(Locale.ROOT, "sampling %s%d steps in %.2fs (%.2fs/it), decoding %.2fs, total %.2fs on %s",
                images > 1 ? images + "x" : "", t.steps(), t.sampling(), t.secondsPerStep(images), t.decoding(),
                totalSeconds, device.name()));
        return sb.toString();
    }

    private static int listDevices(PrintStream out) {
        List<DeviceInfo> devices = Backend.devices();
        out.println("devices (--backend takes a backend or device name, or best):");
        for (DeviceInfo d : devices) {
            out.printf(Locale.ROOT, "  %-10s backend %-7s %s%n", d.name(), d.backend().toLowerCase(Locale.ROOT), d);
        }
        out.flush();
        return EXIT_OK;
    }

    /** The error line (one line, even when the message has several), and the stack trace when verbose. */
    /** -M convert: writes the model as GGUF (see {@link ConvertCommand}). */
    private static int convert(String[] args, PrintStream out, PrintStream err, boolean verbose) {
        try {
            ConvertCommand.run(ConvertCommand.parse(args), out);
            return EXIT_OK;
        } catch (UsageException | InvalidParameterException e) {
            return fail(e, EXIT_USAGE, verbose, err);
        } catch (SdjException | UncheckedIOException e) {
            return fail(e, EXIT_FAILURE, verbose, err);
        } catch (RuntimeException | LinkageError e) {
            return fail(new SdjException("internal error: " + e, e), EXIT_FAILURE, verbose, err);
        }
    }

    private static int fail(Throwable e, int status, boolean verbose, PrintStream err) {
        String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
        err.println("sdj: error: " + message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " "));
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return status;
    }

    /**
     * Sets up slf4j-simple before the first logger exists: debug with -v, else warnings only (progress and the
     * summary are the normal output). A level given with -D wins unless -v is set.
     */
    static void configureLogging(boolean verbose) {
        if (verbose) {
            System.setProperty(LOG_LEVEL, "debug");
        } else if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, "warn");
        }
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** True when {@code err} is the process's stderr and the JVM is attached to a terminal. */
    private static boolean isTerminal(PrintStream err) {
        if (err != System.err) {
            return false;
        }
        Console c = System.console();
        return c != null && c.isTerminal();
    }
}
