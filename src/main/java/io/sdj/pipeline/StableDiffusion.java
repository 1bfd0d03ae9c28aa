package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.adapters.Lora;
import io.sdj.adapters.LoraApplyMode;
import io.sdj.adapters.LoraLibrary;
import io.sdj.adapters.LoraNames;
import io.sdj.adapters.LoraTags;
import io.sdj.family.Conditioner;
import io.sdj.family.ConditionRequest;
import io.sdj.family.Conditioning;
import io.sdj.family.DiffusionModel;
import io.sdj.family.LatentFormat;
import io.sdj.family.ModelFamilies;
import io.sdj.family.ModelFamily;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelDetector;
import io.sdj.model.TensorSources;
import io.sdj.model.TensorSource;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.WeightStore;
import io.sdj.sampling.Denoiser;
import io.sdj.sampling.Img2ImgSchedule;
import io.sdj.sampling.ModelFn;
import io.sdj.sampling.Prediction;
import io.sdj.sampling.Rng;
import io.sdj.sampling.Sampler;
import io.sdj.sampling.SamplingCancelledException;
import io.sdj.sampling.Scalings;
import io.sdj.sampling.SigmaTable;
import io.sdj.text.ClipTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded Stable Diffusion model of any family sdj runs (SD 1.x, SD 2.x, SDXL; {@link #family()}): load once with
 * {@link #builder()}, then {@link #generate} as many images as needed. Generations on one instance run one at a time
 * (concurrent calls queue); {@link #close()} frees all native memory.
 *
 * <pre>{@code
 * try (StableDiffusion sd = StableDiffusion.builder().model(Path.of("sd15.safetensors")).build()) {
 *     GenerationResult r = sd.generate(GenerationRequest.builder("a lovely cat").steps(20).build());
 *     ImageIO.write(r.images().getFirst().image(), "png", new File("cat.png"));
 * }
 * }</pre>
 */
public final class StableDiffusion implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StableDiffusion.class);

    private final Path modelPath;
    private final ModelFamily family;
    private final ModelConfig config;
    private final Backend backend;
    private final ClipTokenizer tokenizer;
    private final ModelParts parts;
    private final SigmaTable sigmaTable;
    private final WeightResidency residency;
    private final GgmlType weightType;
    private final double openSeconds;
    private final Path loraModelDir;
    private final LoraApplyMode loraApplyMode;
    private final LoraLibrary loraLibrary;
    private final ReentrantLock lock = new ReentrantLock(true);
    private volatile Prediction prediction;
    private volatile boolean closed;

    private StableDiffusion(Builder b) {
        long start = System.nanoTime();
        if (b.model == null) {
            throw new InvalidParameterException("model", "no model file given");
        }
        if (!Files.isRegularFile(b.model)) {
            throw new InvalidParameterException("model", "no such file: " + b.model);
        }
        ModelDetector.checkContainer(b.model);
        this.modelPath = b.model;
        this.weightType = b.weightType;
        this.residency = b.residency;
        this.prediction = b.prediction;
        this.loraModelDir = b.loraModelDir;
        this.loraApplyMode = b.loraApplyMode;
        this.tokenizer = b.tokenizer != null
                ? (Files.isDirectory(b.tokenizer) ? ClipTokenizer.fromDirectory(b.tokenizer) : ClipTokenizer.fromMerges(b.tokenizer))
                : ClipTokenizer.forModel(b.model);
        try (TensorSource file = TensorSources.open(b.model)) {
            this.family = ModelFamilies.detect(file);
            this.config = family.configure(file);
            this.sigmaTable = sigmaTable(file);
        }
        this.loraLibrary = new LoraLibrary(LoraNames.of(config, family.displayName()));
        Backend be = Backend.open(b.backend);
        ModelParts mp = null;
        try {
            be.setThreads(b.threads);
            mp = new ModelParts(b.model, family, config, be, family.weightTypes(b.weightType), tokenizer, b.listener);
            if (residency == WeightResidency.RESIDENT) {
                mp.conditioner();
                mp.unet();
                mp.vae();
            }
        } catch (RuntimeException e) {
            if (mp != null) {
                mp.close();
            }
            be.close();
            throw e;
        }
        this.backend = be;
        this.parts = mp;
        if (residency == WeightResidency.RESIDENT) {
            prediction();
        }
        this.openSeconds = (System.nanoTime() - start) / 1e9 - parts.loadSeconds();
        LOG.info("opened {}: {}, latent {} {}; weights {} ({} MiB resident) on {}", modelPath.getFileName(),
                family.displayName(), family.latentFormat(), config.describe(),
                residency.name().toLowerCase(Locale.ROOT), parts.weightBytes() >> 20, backend.device().name());
    }

    /** The file's own alphas_cumprod when it has a valid one (SD 1.x/2.x files), else sd.cpp's computed table. */
    private static SigmaTable sigmaTable(TensorSource file) {
        if (!file.contains(LdmLayout.ALPHAS_CUMPROD)) {
            return SigmaTable.ldmLinear();
        }
        float[] alphas = file.readFloats(LdmLayout.ALPHAS_CUMPROD);
        try {
            return SigmaTable.fromAlphasCumprod(alphas);
        } catch (InvalidParameterException e) {
            LOG.warn("{}: ignoring its alphas_cumprod ({}); using the computed schedule", file.path(), e.getMessage());
            return SigmaTable.ldmLinear();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Seconds spent opening the model and loading its weights so far (on demand: includes later loads). */
    public double loadSeconds() {
        return openSeconds + parts.loadSeconds();
    }

    /** When the weights are on the backend. */
    public WeightResidency residency() {
        return residency;
    }

    /** The model's family. */
    public ModelFamily family() {
        return family;
    }

    /** The configuration read from the file. */
    public ModelConfig config() {
        return config;
    }

    /**
     * What the U-Net predicts: given at build time, or the family's (SD 2.x: sd.cpp's probe pass, which loads the
     * U-Net if it is not loaded yet).
     */
    public Prediction prediction() {
        Prediction p = prediction;
        if (p == null) {
            lock.lock();
            try {
                if (prediction == null) {
                    checkOpen();
                    prediction = family.detectPrediction(parts.unet());
                }
                p = prediction;
            } finally {
                lock.unlock();
            }
        }
        return p;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this model is closed");
        }
    }

    /** The diffusion latents' format. */
    public LatentFormat latentFormat() {
        return family.latentFormat();
    }

    /**
     * The multiple every width and height is aligned up to: the VAE's and the U-Net's downscaling together (64 for
     * SD 1.x/2.x, 32 for SDXL).
     */
    public int spatialMultiple() {
        return config.vae().downscale() * config.unet().downscale();
    }

    public Path modelPath() {
        return modelPath;
    }

    public Backend backend() {
        return backend;
    }

    /** Bytes of weights on the backend now. */
    public long weightBytes() {
        return parts.weightBytes();
    }

    /** The weight type requested at load (null: the file's). */
    public GgmlType weightType() {
        return weightType;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Generates the request's images (txt2img, or img2img when it has an init image). */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, ProgressListener.NONE, new CancellationToken());
    }

    /** Generates with progress reports and a way to cancel from another thread. */
    public GenerationResult generate(GenerationRequest request, ProgressListener listener, CancellationToken cancel) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("this model is closed");
            }
            return run(request, listener == null ? ProgressListener.NONE : listener,
                    cancel == null ? new CancellationToken() : cancel);
        } catch (SamplingCancelledException e) {
            throw new GenerationCancelledException("generation cancelled");
        } finally {
            lock.unlock();
        }
    }

    private GenerationResult run(GenerationRequest req, ProgressListener listener, CancellationToken cancel) {
        int factor = config.vae().downscale();
        int multiple = spatialMultiple();
        int width = align(req.width(), multiple);
        int height = align(req.height(), multiple);
        if (width != req.width() || height != req.height()) {
            LOG.warn("{}x{} is not a multiple of {} for this {} model; aligned up to {}x{}", req.width(), req.height(),
                    multiple, family.displayName(), width, height);
        }
        int w = width / factor;
        int h = height / factor;
        int z = config.unet().inChannels();
        int latentSize = w * h * z;
        Rng rng = req.rng().create(req.seed());
        float[] fullSigmas = req.scheduler().sigmas(req.steps(), sigmaTable);
        float[] sigmas = req.isImageToImage()
                ? Img2ImgSchedule.of(fullSigmas, req.steps(), req.strength()).sigmas() : fullSigmas;

        double encodeSeconds = 0;
        float[] initLatent = new float[latentSize];
        if (req.isImageToImage()) {
            long t0 = System.nanoTime();
            listener.onProgress(new Progress(Phase.IMAGE_ENCODING, 0, 1, 0, 0));
            initLatent = encodeImage(req.initImage(), width, height, rng);
            encodeSeconds = (System.nanoTime() - t0) / 1e9;
            listener.onProgress(new Progress(Phase.IMAGE_ENCODING, 1, 1, 0, encodeSeconds));
        }
        checkCancel(cancel);

        String prompt = req.prompt();
        List<Lora> loras = new ArrayList<>(req.loras());
        if (loraModelDir != null) {
            LoraTags.Resolved tags = LoraTags.resolve(prompt, loraModelDir);
            prompt = tags.prompt();
            loras.addAll(tags.loras());
        }
        parts.useLoras(loraLibrary.resolve(loras), loraApplyMode);

        long t0 = System.nanoTime();
        ConditionRequest condRequest = new ConditionRequest(req.effectiveClipSkip(family.defaultClipSkip()), width, height);
        boolean useUncond = req.cfgScale() != 1.0f;
        int textJobs = useUncond ? 2 : 1;
        listener.onProgress(new Progress(Phase.TEXT_ENCODING, 0, textJobs, 0, 0));
        Conditioner conditioner = parts.conditioner();
        Conditioning cond = conditioner.encode(prompt, condRequest);
        Conditioning uncond = useUncond ? conditioner.encodeNegative(req.negativePrompt(), condRequest) : null;
        if (residency == WeightResidency.ON_DEMAND) {
            parts.release(ModelParts.Part.TEXT);
        }
        double textSeconds = (System.nanoTime() - t0) / 1e9;
        listener.onProgress(new Progress(Phase.TEXT_ENCODING, textJobs, textJobs, 0, textSeconds));

        double sampleSeconds = 0;
        double decodeSeconds = 0;
        List<GeneratedImage> images = new ArrayList<>();
        int steps = sigmas.length - 1;
        Denoiser denoiser = new Denoiser(sigmaTable, prediction());
        ModelFn model = denoiseFunction(denoiser, parts.unet(), w, h, cond, uncond, req.cfgScale());
        for (int b = 0; b < req.batchCount(); b++) {
            checkCancel(cancel);
            long seed = req.seed() + b;
            rng.seed(seed); // the sampler's ancestral noise continues this stream after the initial noise
            float[] x = Denoiser.noiseLatent(initLatent, rng.randn(latentSize), sigmas[0]);
            long s0 = System.nanoTime();
            final int image = b;
            listener.onProgress(new Progress(Phase.SAMPLING, 0, steps, image, 0));
            float[] latent = Sampler.of(req.sampler()).sample(model, x, sigmas, rng,
                    st -> listener.onProgress(new Progress(Phase.SAMPLING, st.step(), st.steps(), image,
                            (System.nanoTime() - s0) / 1e9)),
                    cancel::isCancelled);
            sampleSeconds += (System.nanoTime() - s0) / 1e9;
            checkCancel(cancel);
            if (residency == WeightResidency.ON_DEMAND && b == req.batchCount() - 1) {
                parts.release(ModelParts.Part.UNET);
            }
            long d0 = System.nanoTime();
            listener.onProgress(new Progress(Phase.DECODING, 0, 1, image, 0));
            images.add(new GeneratedImage(decodeImage(latent, w, h, z, factor), seed, b));
            double d = (System.nanoTime() - d0) / 1e9;
            decodeSeconds += d;
            listener.onProgress(new Progress(Phase.DECODING, 1, 1, image, d));
        }
        return new GenerationResult(images, req, new Timings(textSeconds, encodeSeconds, sampleSeconds, decodeSeconds, steps));
    }

    /** {@code v} rounded up to a multiple of {@code multiple}. */
    static int align(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }

    /**
     * D(x, σ) for the sampler: scale the input by c_in, run the diffusion model for the prompt (and for the negative
     * prompt when guidance is on), combine with classifier-free guidance, and turn the prediction into a denoised
     * latent, all in float on the CPU, in sd.cpp's order.
     */
    private static ModelFn denoiseFunction(Denoiser denoiser, DiffusionModel unet, int w, int h, Conditioning cond,
                                           Conditioning uncond, float cfg) {
        return (xt, sigma) -> {
            Scalings s = denoiser.scalings(sigma);
            float t = denoiser.timestep(sigma);
            float[] in = Denoiser.scale(xt, s.cIn());
            float[] out = unet.predict(in, w, h, t, cond);
            if (uncond != null) {
                float[] outUncond = unet.predict(in, w, h, t, uncond);
                out = Denoiser.guidance(out, outUncond, cfg);
            }
            return Denoiser.denoised(out, xt, s);
        };
    }

    private static void checkCancel(CancellationToken cancel) {
        if (cancel.isCancelled()) {
            throw new GenerationCancelledException("generation cancelled");
        }
    }

    /** Latent → pixels: undo the latent format, decode, map [-1, 1] to [0, 255] with rounding. */
    private BufferedImage decodeImage(float[] latent, int w, int h, int z, int factor) {
        BufferedImage image = Images.toImage(parts.vae().decode(family.latentFormat().toVae(latent), w, h, z),
                w * factor, h * factor);
        return image;
    }

    /** Pixels → latent: VAE encoder, a sample of the posterior drawn with {@code rng}, times the scale factor. */
    private float[] encodeImage(BufferedImage image, int width, int height, Rng rng) {
        float[] moments = parts.vae().encode(Images.toTensor(image, width, height), width, height);
        int n = moments.length / 2;
        float[] noise = rng.randn(n);
        float[] latent = new float[n];
        for (int i = 0; i < n; i++) {
            float logvar = Math.max(-30.0f, Math.min(20.0f, moments[n + i]));
            float std = (float) Math.exp(0.5f * logvar);
            latent[i] = family.latentFormat().fromVae(moments[i] + std * noise[i]);
        }
        return latent;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                parts.close();
                backend.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Loads a model. Only {@link #model(Path)} is required. */
    public static final class Builder {
        private Path model;
        private Path tokenizer;
        private String backend = "best";
        private int threads = -1;
        private GgmlType weightType;
        private Prediction prediction;
        private WeightResidency residency = WeightResidency.RESIDENT;
        private ProgressListener listener = ProgressListener.NONE;
        private Path loraModelDir;
        private LoraApplyMode loraApplyMode = LoraApplyMode.AUTO;

        private Builder() {
        }

        /** The checkpoint (.safetensors, SD 1.x / SD 2.x / SDXL single-file layout). */
        public Builder model(Path v) { model = v; return this; }
        /** The CLIP BPE merges file, or a folder with merges.txt; default: tokenizer/ next to the model. */
        public Builder tokenizer(Path v) { tokenizer = v; return this; }
        /** cpu, vulkan, cuda, a device name (Vulkan0), or best (default: the first hardware GPU, else CPU). */
        public Builder backend(String v) { backend = v; return this; }
        /** CPU threads; ≤ 0 means all cores. */
        public Builder threads(int v) { threads = v; return this; }
        /** Convert linear weights to this type on load (f16, q8_0, q5_0, q5_1, q4_0, q4_1, ...); null keeps the file's. */
        public Builder weightType(GgmlType v) { weightType = v; return this; }
        /**
         * What the U-Net predicts (sd-cli's --prediction); null (default) takes the family's: eps for SD 1.x and
         * SDXL, and for SD 2.x the result of sd.cpp's probe pass.
         */
        public Builder prediction(Prediction v) { prediction = v; return this; }
        /**
         * When weights are on the backend: {@link WeightResidency#RESIDENT} (default; loaded once, for many
         * generations) or {@link WeightResidency#ON_DEMAND} (each part loaded when needed and released after use:
         * lowest peak memory, what the CLI uses).
         */
        public Builder residency(WeightResidency v) { residency = v == null ? WeightResidency.RESIDENT : v; return this; }
        /** Told about loading progress. */
        public Builder listener(ProgressListener v) { listener = v == null ? ProgressListener.NONE : v; return this; }

        /**
         * The folder {@code <lora:name:multiplier>} prompt tags name files in (sd-cli's --lora-model-dir); null
         * (default): tags are left in the prompt text, as sd-cli does without the flag.
         */
        public Builder loraModelDir(Path v) { loraModelDir = v; return this; }
        /** When LoRAs are applied (sd-cli's --lora-apply-mode); default {@link LoraApplyMode#AUTO}. */
        public Builder loraApplyMode(LoraApplyMode v) { loraApplyMode = v == null ? LoraApplyMode.AUTO : v; return this; }

        public StableDiffusion build() {
            return new StableDiffusion(this);
        }
    }
}
