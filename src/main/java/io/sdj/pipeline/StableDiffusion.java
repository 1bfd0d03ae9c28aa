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
import io.sdj.family.GuidanceBatching;
import io.sdj.family.LatentFormat;
import io.sdj.family.ModelFamilies;
import io.sdj.family.ModelFamily;
import io.sdj.family.TensorTypeRule;
import io.sdj.family.WeightTypePolicy;
import io.sdj.model.DiffusersFolder;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelDetector;
import io.sdj.model.ModelFiles;
import io.sdj.model.TensorSource;
import io.sdj.nn.Attention;
import io.sdj.runtime.Backend;
import io.sdj.runtime.BlasUse;
import io.sdj.runtime.DeviceInfo;
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
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A loaded Stable Diffusion model of any family sdj runs (SD 1.x, SD 2.x, SDXL; {@link #family()}): load once with
 * {@link #builder()}, then {@link #generate} as many images as needed, or {@link #generateAsync} for a
 * {@link CompletableFuture}. Generations on one instance run one at a time: concurrent calls queue, fairly, and a
 * queued call can be cancelled (its {@link CancellationToken}, an interrupt of the waiting thread, or cancelling its
 * future) and then ends with a {@link GenerationCancelledException}. {@link #close()} cancels the running generation
 * at its next step, waits for it to stop, then frees all native memory; calls still queued end cancelled.
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
    private final int droppedTextLayers;
    private final WeightResidency residency;
    private final FirstStage firstStage;
    private final GgmlType weightType;
    private final double openSeconds;
    private final DeviceInfo device;
    private final Path loraModelDir;
    private final LoraApplyMode loraApplyMode;
    private final LoraLibrary loraLibrary;
    private final ReentrantLock lock = new ReentrantLock(true);
    private volatile Prediction prediction;
    /** close() was called: the running call stops at its next step, queued calls give up. */
    private volatile boolean closing;
    /** The native memory was freed (written with the lock held). */
    private boolean closed;
    private ExecutorService executor;

    private StableDiffusion(Builder b) {
        long start = System.nanoTime();
        if (b.model == null && b.diffusionModel == null) {
            throw new InvalidParameterException("model", "no model file given");
        }
        ModelFiles files = new ModelFiles(b.model, b.diffusionModel, b.vae, b.clipL, b.clipG);
        files.check();
        if (b.model != null) {
            ModelDetector.checkContainer(b.model);
        }
        this.modelPath = files.primary();
        this.weightType = b.weightType;
        this.residency = b.residency;
        this.prediction = b.prediction;
        this.loraModelDir = b.loraModelDir;
        this.loraApplyMode = b.loraApplyMode;
        try (TensorSource file = files.open()) {
            this.family = ModelFamilies.detect(file);
            this.config = family.configure(file);
            checkLatentChannels(files.primary(), config);
            this.sigmaTable = sigmaTable(file);
            this.droppedTextLayers = droppedTextLayers(file);
            for (TensorTypeRule r : TensorTypeRule.unmatched(b.tensorTypeRules, file.tensors().keySet())) {
                LOG.warn("--tensor-type-rules: '{}' matches none of the tensors of {} (sdj matches the checkpoint's"
                        + " names, e.g. model.diffusion_model.…, first_stage_model.…, cond_stage_model.…)",
                        r.pattern().pattern(), files.primary());
            }
        }
        // after the file's checks: a broken file fails before the tokenizer is parsed
        this.tokenizer = loadTokenizer(b);
        this.loraLibrary = new LoraLibrary(LoraNames.of(config, family.displayName()));
        Backend be = Backend.open(b.backend, b.blas);
        ModelParts mp = null;
        FirstStage fs = null;
        try {
            be.setThreads(b.threads);
            fs = FirstStage.open(b.firstStage, be, b.vaeConvolution == VaeConvolution.DIRECT);
            WeightTypePolicy types = family.weightTypes(b.weightType).withRules(b.tensorTypeRules)
                    .withDiffusionConvType(b.diffusionConvType);
            mp = new ModelParts(files, family, config, be, types, tokenizer, b.listener,
                    new ModelParts.Options(b.diffusionFlashAttention,
                            Attention.of(b.vaeFlashAttention.inVae()), b.vaeConvolution, fs.options().tiling(),
                            new WeightLoader.Options(b.mapWeights, b.loadThreads), b.guidanceBatching));
            if (residency == WeightResidency.RESIDENT) {
                mp.conditioner();
                mp.unet();
                if (!fs.replacesVae()) { // TAESD replaces the VAE: its weights are not loaded
                    mp.vae();
                }
            }
        } catch (RuntimeException | Error e) { // nothing native may outlive a failed load
            if (mp != null) {
                mp.close();
            }
            if (fs != null) {
                fs.close();
            }
            be.close();
            throw e;
        }
        this.backend = be;
        this.device = be.device();
        this.parts = mp;
        this.firstStage = fs;
        if (residency == WeightResidency.RESIDENT) {
            prediction();
        }
        this.openSeconds = (System.nanoTime() - start) / 1e9 - parts.loadSeconds();
        LOG.info("opened {}: {}, latent {} {}; weights {} ({} MiB resident) on {}", modelPath.getFileName(),
                family.displayName(), family.latentFormat(), config.describe(),
                residency.name().toLowerCase(Locale.ROOT), parts.weightBytes() >> 20, backend.device().name());
    }

    /**
     * The U-Net's input, its output and the VAE's latent must have one channel count (text-to-image checkpoints);
     * otherwise the sampler, the prediction probe and the decoder would index past their buffers.
     */
    private static void checkLatentChannels(Path file, ModelConfig c) {
        int in = c.unet().inChannels();
        int out = c.unet().outChannels();
        int latent = c.vae().embedDim();
        if (in != out || out != latent) {
            throw new io.sdj.model.ModelFormatException(file, "latent channel counts disagree: the U-Net takes " + in
                    + " (model.diffusion_model.input_blocks.0.0.weight) and predicts " + out
                    + " (model.diffusion_model.out.2.weight), the VAE's latent has " + latent
                    + " (first_stage_model.post_quant_conv.weight); all three must agree");
        }
    }

    /** Largest tokenizer file read (CLIP's merges.txt is 525 KB). */
    static final long MAX_TOKENIZER_BYTES = 64L << 20;

    private static ClipTokenizer loadTokenizer(Builder b) {
        if (b.tokenizer == null) {
            return ClipTokenizer.forModel(b.model != null ? b.model : b.diffusionModel);
        }
        if (!Files.isDirectory(b.tokenizer)) {
            if (!Files.isRegularFile(b.tokenizer)) {
                throw new InvalidParameterException("tokenizer", "not a file or folder: " + b.tokenizer);
            }
            long size;
            try {
                size = Files.size(b.tokenizer);
            } catch (java.io.IOException e) {
                throw new InvalidParameterException("tokenizer", "cannot read " + b.tokenizer + ": " + e.getMessage());
            }
            if (size > MAX_TOKENIZER_BYTES) {
                throw new InvalidParameterException("tokenizer", b.tokenizer + " has " + size + " bytes; a CLIP merges"
                        + " file has about 525 KB (at most " + MAX_TOKENIZER_BYTES + " accepted)");
            }
        }
        return Files.isDirectory(b.tokenizer) ? ClipTokenizer.fromDirectory(b.tokenizer)
                : ClipTokenizer.fromMerges(b.tokenizer);
    }

    private static int droppedTextLayers(TensorSource file) {
        String v = file.metadata().get(DiffusersFolder.DROPPED_TEXT_LAYERS_KEY);
        if (v == null) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0 && n <= 4) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new io.sdj.model.ModelFormatException(file.path(), "metadata " + DiffusersFolder.DROPPED_TEXT_LAYERS_KEY
                + " must be 0 to 4, got '" + v + "'");
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
     * True when the last generation's U-Net graph used flash attention: {@link FlashAttention} resolved for the
     * backend, family, weight types and latent size (false before the first generation).
     */
    public boolean unetFlashAttention() {
        return parts.unetUsedFlash();
    }

    /** True when the CPU backend hands its large matrix products to ggml's BLAS backend ({@link Builder#blas}). */
    public boolean blas() {
        return backend.hasBlas();
    }

    /** Which graphs use ggml's BLAS backend ({@link BlasUse#OFF} without one). */
    public BlasUse blasUse() {
        return backend.blasUse();
    }

    /** What runs the matrix products: the BLAS library's description, or ggml's own kernels. */
    public String matrixProducts() {
        return backend.matrixProducts();
    }

    /**
     * sd.cpp's U-Net down factor: 8 for every U-Net family, SDXL's three levels included (its
     * {@code get_diffusion_model_down_factor}); sizes are aligned to VAE factor × 8, so SDXL sizes are multiples of
     * 64 like SD 1.x's although its U-Net only halves twice.
     */
    static final int SDCPP_UNET_DOWN_FACTOR = 8;

    /**
     * The multiple every width and height is aligned up to, as sd.cpp computes it: the VAE's scale factor times
     * {@link #SDCPP_UNET_DOWN_FACTOR} (64 for SD 1.x, SD 2.x and SDXL), and never less than the U-Net needs.
     */
    public int spatialMultiple() {
        int unet = Math.max(SDCPP_UNET_DOWN_FACTOR, config.unet().downscale());
        return config.vae().downscale() * unet;
    }

    public Path modelPath() {
        return modelPath;
    }

    /**
     * The device the model runs on (a description: the native backend stays owned by this instance and is freed by
     * {@link #close()}).
     */
    public DeviceInfo device() {
        return device;
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
        return generate(request, listener, cancel, null);
    }

    /**
     * Generates with progress reports (and previews, see {@link ProgressListener#previewInterval()}), a way to cancel
     * from another thread, and each image handed to {@code onImage} as soon as it is decoded (on the generating
     * thread, before the next image of the batch starts).
     *
     * <p>Waits while another generation runs on this instance. The wait and the generation end with a
     * {@link GenerationCancelledException} when {@code cancel} is cancelled, when the calling thread is interrupted
     * (as {@code Future.cancel(true)} does), or when the model is closed; a running generation notices at its next
     * sampling step.
     *
     * @param onImage receives each finished image, or null
     * @throws IllegalStateException if the model is closed, or when called from a listener of a generation that is
     *                               running on this instance
     */
    public GenerationResult generate(GenerationRequest request, ProgressListener listener, CancellationToken cancel,
                                     Consumer<GeneratedImage> onImage) {
        if (request == null) {
            throw new InvalidParameterException("request", "must not be null");
        }
        CancellationToken token = cancel == null ? new CancellationToken() : cancel;
        acquire(token);
        try {
            BooleanSupplier stop = () -> token.isCancelled() || closing || Thread.currentThread().isInterrupted();
            return run(request, listener == null ? ProgressListener.NONE : listener, stop,
                    onImage == null ? image -> { } : onImage, token);
        } catch (SamplingCancelledException e) {
            throw cancelled(token);
        } finally {
            try {
                if (closing) {
                    release(); // close() was called from a listener on this thread
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits for the model, giving up when the call is cancelled, interrupted or the model closes. */
    private void acquire(CancellationToken token) {
        if (closing) {
            throw new IllegalStateException("this model is closed");
        }
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("generate called from a listener of a generation running on this model");
        }
        try {
            while (!lock.tryLock(20, TimeUnit.MILLISECONDS)) {
                if (token.isCancelled() || closing) {
                    throw cancelled(token);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GenerationCancelledException("interrupted while waiting for the model");
        }
        if (closing) {
            lock.unlock();
            throw cancelled(token);
        }
    }

    private GenerationCancelledException cancelled(CancellationToken token) {
        if (token.isCancelled()) {
            return new GenerationCancelledException("generation cancelled");
        }
        if (closing) {
            return new GenerationCancelledException("generation cancelled: the model was closed");
        }
        return new GenerationCancelledException("generation cancelled: the thread was interrupted");
    }

    /** {@link #generateAsync(GenerationRequest, ProgressListener, Consumer, Executor)} on this model's own thread. */
    public CompletableFuture<GenerationResult> generateAsync(GenerationRequest request) {
        return generateAsync(request, ProgressListener.NONE, null, null);
    }

    /**
     * Starts a generation and returns at once. Cancelling the returned future ({@code cancel(true)} or
     * {@code cancel(false)}) cancels the generation, queued or running; it then completes with a
     * {@link java.util.concurrent.CancellationException}. Other failures complete it exceptionally with the
     * {@link io.sdj.SdjException} that {@link #generate} would throw.
     *
     * @param onImage  receives each image as it finishes, or null
     * @param executor where the generation runs; null for this model's own single thread (queued calls then wait in
     *                 its queue rather than in threads of their own)
     */
    public CompletableFuture<GenerationResult> generateAsync(GenerationRequest request, ProgressListener listener,
                                                             Consumer<GeneratedImage> onImage, Executor executor) {
        Objects.requireNonNull(request, "request");
        CancellationToken token = new CancellationToken();
        CancellableResult result = new CancellableResult(token);
        Runnable task = () -> {
            if (result.isDone()) {
                return;
            }
            try {
                result.complete(generate(request, listener, token, onImage));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        };
        try {
            (executor != null ? executor : ownExecutor()).execute(task);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(closing ? new GenerationCancelledException("the model was closed") : e);
        }
        return result;
    }

    /** A future whose cancel() also cancels the generation behind it. */
    private static final class CancellableResult extends CompletableFuture<GenerationResult> {
        private final CancellationToken token;

        CancellableResult(CancellationToken token) {
            this.token = token;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            token.cancel();
            return super.cancel(mayInterruptIfRunning);
        }
    }

    private synchronized Executor ownExecutor() {
        if (closing) {
            throw new IllegalStateException("this model is closed");
        }
        if (executor == null) {
            executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "sdj-generate-" + modelPath.getFileName());
                t.setDaemon(true);
                return t;
            });
        }
        return executor;
    }

    private GenerationResult run(GenerationRequest req, ProgressListener listener, BooleanSupplier cancel,
                                 Consumer<GeneratedImage> onImage, CancellationToken token) {
        int factor = config.vae().downscale();
        int multiple = spatialMultiple();
        int width = align(req.width(), multiple);
        int height = align(req.height(), multiple);
        if (width != req.width() || height != req.height()) {
            LOG.warn("{}x{} is not a multiple of {} for this {} model; aligned up to {}x{}", req.width(), req.height(),
                    multiple, family.displayName(), width, height);
        }
        SizeLimits.check(config, width, height, req.batchCount(), req.isImageToImage(), Runtime.getRuntime().maxMemory(),
                device);
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
            initLatent = firstStage.encode(req.initImage(), width, height,
                    () -> encodeImage(req.initImage(), width, height, rng));
            encodeSeconds = (System.nanoTime() - t0) / 1e9;
            listener.onProgress(new Progress(Phase.IMAGE_ENCODING, 1, 1, 0, encodeSeconds));
        }
        checkCancel(cancel, token);

        String prompt = req.prompt();
        List<Lora> loras = new ArrayList<>(req.loras());
        if (loraModelDir != null) {
            LoraTags.Resolved tags = LoraTags.resolve(prompt, loraModelDir);
            prompt = tags.prompt();
            loras.addAll(tags.loras());
        }
        parts.useLoras(loraLibrary.resolve(loras), loraApplyMode);

        long t0 = System.nanoTime();
        ConditionRequest condRequest = new ConditionRequest(clipSkip(req), width, height);
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
        LatentDecoder klDecoder = (lat, lw, lh) -> decodeImage(lat, lw, lh, z, factor);
        ModelFn model = firstStage.withPreview(denoiseFunction(denoiser, parts.unet(), w, h, cond, uncond,
                req.cfgScale()), denoiser, w, h, klDecoder);
        int previewEvery = listener.previewInterval();
        LatentPreview preview = previewEvery > 0 ? LatentPreview.of(family) : null;
        for (int b = 0; b < req.batchCount(); b++) {
            checkCancel(cancel, token);
            long seed = req.seed() + b;
            rng.seed(seed); // the sampler's ancestral noise continues this stream after the initial noise
            float[] x = Denoiser.noiseLatent(initLatent, rng.randn(latentSize), sigmas[0]);
            long s0 = System.nanoTime();
            final int image = b;
            listener.onProgress(new Progress(Phase.SAMPLING, 0, steps, image, 0));
            float[] latent = Sampler.of(req.sampler()).sample(model, x, sigmas, rng, st -> {
                listener.onProgress(new Progress(Phase.SAMPLING, st.step(), st.steps(), image,
                        (System.nanoTime() - s0) / 1e9));
                if (preview != null && (st.step() % previewEvery == 0 || st.step() == st.steps())) {
                    listener.onPreview(new Preview(st.step(), st.steps(), image, preview.render(st.denoised(), w, h)));
                }
            }, cancel);
            sampleSeconds += (System.nanoTime() - s0) / 1e9;
            parts.noteSamplingFootprint();
            checkCancel(cancel, token);
            if (residency == WeightResidency.ON_DEMAND && b == req.batchCount() - 1) {
                parts.release(ModelParts.Part.UNET);
            }
            long d0 = System.nanoTime();
            listener.onProgress(new Progress(Phase.DECODING, 0, 1, image, 0));
            GeneratedImage done = new GeneratedImage(firstStage.decode(latent, w, h, klDecoder), seed, b);
            images.add(done);
            onImage.accept(done);
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
            float[] out;
            if (uncond != null) {
                float[][] both = unet.predictGuided(in, w, h, t, cond, uncond);
                out = Denoiser.guidance(both[0], both[1], cfg);
            } else {
                out = unet.predict(in, w, h, t, cond);
            }
            return Denoiser.denoised(out, xt, s);
        };
    }

    private void checkCancel(BooleanSupplier cancel, CancellationToken token) {
        if (cancel.getAsBoolean()) {
            throw cancelled(token);
        }
    }

    /**
     * The request's clip skip on the encoder this model has: a text encoder without final layers the family counts
     * (diffusers' SD 2.x encoder, {@link DiffusersFolder#DROPPED_TEXT_LAYERS_KEY}) skips that many fewer.
     */
    private int clipSkip(GenerationRequest req) {
        int skip = req.effectiveClipSkip(family.defaultClipSkip());
        if (droppedTextLayers > 0 && skip - droppedTextLayers < 1) {
            throw new InvalidParameterException("clip_skip", skip + " needs the text encoder's last layer, which this "
                    + "model's encoder does not have (diffusers dropped it); use " + (droppedTextLayers + 1) + " or more");
        }
        return skip - droppedTextLayers;
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

    /**
     * Cancels the running generation (it stops at its next sampling step with a
     * {@link GenerationCancelledException}), waits until it has stopped, and frees all native memory. Queued calls
     * end cancelled; later calls throw {@link IllegalStateException}. Called from a listener of a running
     * generation, the memory is freed when that generation returns. Idempotent.
     */
    @Override
    public void close() {
        closing = true;
        synchronized (this) {
            if (executor != null) {
                executor.shutdown();
            }
        }
        if (lock.isHeldByCurrentThread()) {
            return; // inside a listener: generate() frees on its way out
        }
        lock.lock();
        try {
            release();
        } finally {
            lock.unlock();
        }
    }

    /** Frees the native memory once; the lock is held. */
    private void release() {
        if (!closed) {
            closed = true;
            parts.close();
            firstStage.close();
            backend.close();
        }
    }

    /** Loads a model. Only {@link #model(Path)} is required. */
    public static final class Builder {
        private Path model;
        private Path diffusionModel;
        private Path vae;
        private Path clipL;
        private Path clipG;
        private Path tokenizer;
        private String backend = "best";
        private int threads = -1;
        private GgmlType weightType;
        private List<TensorTypeRule> tensorTypeRules = List.of();
        private GgmlType diffusionConvType;
        private Prediction prediction;
        private WeightResidency residency = WeightResidency.RESIDENT;
        private ProgressListener listener = ProgressListener.NONE;
        private FirstStageOptions firstStage = FirstStageOptions.DEFAULT;
        private FlashAttention diffusionFlashAttention = FlashAttention.AUTO;
        private FlashAttention vaeFlashAttention = FlashAttention.AUTO;
        private VaeConvolution vaeConvolution = VaeConvolution.AUTO;
        private GuidanceBatching guidanceBatching = GuidanceBatching.parse(
                System.getProperty("sdj.guidance", "auto"));
        private boolean mapWeights = !"false".equals(System.getProperty("sdj.mmap"));
        private BlasUse blas = BlasUse.byDefault();
        private int loadThreads = Integer.getInteger("sdj.loadThreads", 0);
        private Path loraModelDir;
        private LoraApplyMode loraApplyMode = LoraApplyMode.AUTO;

        private Builder() {
        }

        /**
         * The checkpoint (.safetensors, .gguf, .ckpt in the SD 1.x / SD 2.x / SDXL single-file layout) or a diffusers
         * pipeline folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/).
         */
        public Builder model(Path v) { model = v; return this; }
        /** The U-Net in its own file (sd-cli's --diffusion-model); replaces the checkpoint's, or stands without one. */
        public Builder diffusionModel(Path v) { diffusionModel = v; return this; }
        /** The VAE in its own file (sd-cli's --vae); replaces the checkpoint's (SDXL then runs its convs at full scale, as sd.cpp). */
        public Builder vae(Path v) { vae = v; return this; }
        /** CLIP ViT-L/14 in its own file (sd-cli's --clip_l); replaces the checkpoint's. */
        public Builder clipL(Path v) { clipL = v; return this; }
        /** OpenCLIP ViT-bigG/14 in its own file (sd-cli's --clip_g, SDXL); replaces the checkpoint's. */
        public Builder clipG(Path v) { clipG = v; return this; }
        /** The CLIP BPE merges file, or a folder with merges.txt; default: tokenizer/ next to the model. */
        public Builder tokenizer(Path v) { tokenizer = v; return this; }
        /** cpu, vulkan, cuda, a device name (Vulkan0), or best (default: the first hardware GPU, else CPU). */
        public Builder backend(String v) { backend = v; return this; }
        /** CPU threads; ≤ 0 (default) means the number of physical cores, as in sd-cli. */
        public Builder threads(int v) { threads = v; return this; }
        /**
         * On the CPU backend, hand the large matrix products to ggml's BLAS backend when the runtime has one (default
         * true, unless the system property {@code sdj.blas} says otherwise): 2-5x faster products in F32, so images
         * differ from sd-cli's (built without BLAS) in the last bits. Graphs with quantized products keep ggml's
         * kernels ({@link BlasUse#UNQUANTIZED}). False keeps ggml's own kernels everywhere (--no-blas).
         */
        public Builder blas(boolean v) { blas = v ? BlasUse.UNQUANTIZED : BlasUse.OFF; return this; }
        /**
         * Which graphs use ggml's BLAS backend on the CPU: {@link BlasUse#OFF}, {@link BlasUse#UNQUANTIZED} (the
         * default) or {@link BlasUse#ALL} (also quantized U-Nets: about 2.5x faster per step at q4_0, images no
         * longer those of sd-cli's quantized runs; --blas-quantized).
         */
        public Builder blas(BlasUse v) {
            blas = java.util.Objects.requireNonNull(v, "blas");
            return this;
        }
        /** Convert linear weights to this type on load (f16, q8_0, q5_0, q5_1, q4_0, q4_1, ...); null keeps the file's. */
        public Builder weightType(GgmlType v) { weightType = v; return this; }
        /**
         * Per-tensor weight types (sd-cli's --tensor-type-rules): the first rule whose pattern is found in a tensor's
         * name gives its type instead of {@link #weightType}; the rest of the type policy (F16 kernels, F32 norms,
         * embeddings) applies as in sd.cpp. Parse sd-cli's syntax with {@link TensorTypeRule#parse}.
         */
        public Builder tensorTypeRules(List<TensorTypeRule> v) { tensorTypeRules = v == null ? List.of() : List.copyOf(v); return this; }
        /** {@link #tensorTypeRules(List)} in sd-cli's syntax, e.g. {@code "^first_stage_model\\.=f16,attn=q8_0"}. */
        public Builder tensorTypeRules(String v) { return tensorTypeRules(TensorTypeRule.parse(v)); }
        /**
         * The type of the U-Net's convolution kernels (sdj's own option; null, the default, keeps sd.cpp's F16).
         * A quantized type makes the U-Net much smaller (SD 1.5: its convolutions hold 69% of its weights) and, on
         * CPUs, faster; the images then differ from sd-cli's by about as much as a quantized --type moves them.
         * A kernel whose KW·KH·IC is not a multiple of the type's block stays F16. Kernels are quantized with
         * ggml's plain rounding (fast at load; sd.cpp never quantizes them, so there are no bytes to match).
         */
        public Builder diffusionConvType(GgmlType v) {
            diffusionConvType = WeightTypePolicy.requireWeightType(WeightTypePolicy.DIFFUSION_CONV_TYPE, v);
            return this;
        }
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
        /**
         * How guidance's two U-Net passes run (default AUTO: two passes on the CPU, one batch of two on GPU
         * backends; the system property {@code sdj.guidance=auto|batched|two_pass} sets the default).
         */
        public Builder guidanceBatching(GuidanceBatching v) { guidanceBatching = v == null ? GuidanceBatching.AUTO : v; return this; }
        /**
         * On the CPU backend, memory-map the weights used as the file stores them instead of copying them (default
         * true; system property {@code sdj.mmap=false} turns it off).
         */
        public Builder mapWeights(boolean v) { mapWeights = v; return this; }
        /** Threads that convert weights while loading; ≤ 0 (default) means one per processor, at most 8. */
        public Builder loadThreads(int v) { loadThreads = v; return this; }
        /** Told about loading progress. */
        public Builder listener(ProgressListener v) { listener = v == null ? ProgressListener.NONE : v; return this; }
        /** TAESD, previews and VAE tiling (default: the KL VAE, no previews, tiling only as a fallback). */
        public Builder firstStage(FirstStageOptions v) { firstStage = v == null ? FirstStageOptions.DEFAULT : v; return this; }
        /**
         * Flash attention (ggml_flash_attn_ext, k/v in F16) on or off in the U-Net (--diffusion-fa) and in the VAE
         * (--fa), instead of the default {@link FlashAttention#AUTO} for both.
         */
        public Builder flashAttention(boolean diffusion, boolean vae) {
            diffusionFlashAttention = FlashAttention.of(diffusion);
            vaeFlashAttention = FlashAttention.of(vae);
            return this;
        }
        /**
         * Flash attention in the U-Net and the VAE (default {@link FlashAttention#AUTO}: in the U-Net on the CPU
         * backend, where it measured faster and within the parity bound; regular attention elsewhere).
         */
        public Builder flashAttention(FlashAttention diffusion, FlashAttention vae) {
            diffusionFlashAttention = diffusion == null ? FlashAttention.AUTO : diffusion;
            vaeFlashAttention = vae == null ? FlashAttention.AUTO : vae;
            return this;
        }
        /** Always (true) or never (false) convolve in the VAE and TAESD with ggml_conv_2d_direct (--vae-conv-direct). */
        public Builder vaeConvDirect(boolean v) { vaeConvolution = VaeConvolution.of(v); return this; }
        /**
         * The VAE's convolution algorithm (default {@link VaeConvolution#AUTO}: im2col, or direct convolution on the
         * CPU when im2col's buffer would make the decode the peak of the run).
         */
        public Builder vaeConvolution(VaeConvolution v) { vaeConvolution = v == null ? VaeConvolution.AUTO : v; return this; }

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
