package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.model.ModelDetector;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.Sd1Component;
import io.sdj.model.Sd1Config;
import io.sdj.model.Sd1Layout;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
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
import io.sdj.text.ClipTextModel;
import io.sdj.text.ClipTokenizer;
import io.sdj.text.TokenizedPrompt;
import io.sdj.unet.UNet;
import io.sdj.vae.AutoencoderKL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded Stable Diffusion 1.x model: load once with {@link #builder()}, then {@link #generate} as many images as
 * needed. Generations on one instance run one at a time (concurrent calls queue); {@link #close()} frees all native
 * memory.
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
    /** SD1's latent scale factor. */
    public static final float LATENT_SCALE = 0.18215f;

    private final Path modelPath;
    private final Sd1Config config;
    private final Backend backend;
    private final WeightStore weights;
    private final ClipTokenizer tokenizer;
    private final TextEncoder textEncoder;
    private final UNetRunner unet;
    private final VaeRunner vae;
    private final FirstStage firstStage;
    private final Denoiser denoiser;
    private final GgmlType weightType;
    private final double loadSeconds;
    private final ReentrantLock lock = new ReentrantLock(true);
    private volatile boolean closed;

    private StableDiffusion(Builder b) {
        long start = System.nanoTime();
        if (b.model == null) {
            throw new InvalidParameterException("model", "no model file given");
        }
        if (!Files.isRegularFile(b.model)) {
            throw new InvalidParameterException("model", "no such file: " + b.model);
        }
        this.modelPath = b.model;
        this.weightType = b.weightType;
        this.tokenizer = b.tokenizer != null
                ? (Files.isDirectory(b.tokenizer) ? ClipTokenizer.fromDirectory(b.tokenizer) : ClipTokenizer.fromMerges(b.tokenizer))
                : ClipTokenizer.forModel(b.model);
        Backend be = null;
        WeightStore ws = null;
        FirstStage fs = null;
        try (SafetensorsFile file = SafetensorsFile.open(b.model)) {
            ModelDetector.requireSd1(file);
            Sd1Config cfg = Sd1Layout.infer(file);
            Sd1Layout.validate(file, cfg);
            this.config = cfg;
            float[] alphas = file.contains(Sd1Layout.ALPHAS_CUMPROD) ? file.readFloats(Sd1Layout.ALPHAS_CUMPROD) : null;
            this.denoiser = new Denoiser(alphas != null && alphas.length == SigmaTable.TIMESTEPS
                    ? SigmaTable.fromAlphasCumprod(alphas) : SigmaTable.ldmLinear(), Prediction.EPS);
            be = Backend.open(b.backend);
            be.setThreads(b.threads);
            fs = FirstStage.open(b.firstStage, be, b.vaeConvDirect);
            ProgressListener listener = b.listener;
            long t0 = System.nanoTime();
            List<String> prefixes = fs.replacesVae() // TAESD replaces the VAE: its weights are not loaded
                    ? List.of(Sd1Component.UNET.prefix(), Sd1Component.CLIP.prefix())
                    : List.of(Sd1Component.UNET.prefix(), Sd1Component.CLIP.prefix(), Sd1Component.VAE.prefix());
            ws = WeightLoader.load(file, prefixes, be, new WeightTypePolicy(b.weightType), "sd1",
                    (n, total) -> listener.onProgress(new Progress(Phase.LOADING_WEIGHTS, n, total, 0,
                            (System.nanoTime() - t0) / 1e9)));
            this.backend = be;
            this.weights = ws;
            this.firstStage = fs;
        } catch (RuntimeException e) {
            if (ws != null) {
                ws.close();
            }
            if (fs != null) {
                fs.close();
            }
            if (be != null) {
                be.close();
            }
            throw e;
        }
        this.textEncoder = new TextEncoder(new ClipTextModel(config.clip(), Scope.of(weights, Sd1Component.CLIP.prefix())), backend);
        this.unet = new UNetRunner(new UNet(config.unet(), Scope.of(weights, Sd1Component.UNET.prefix()),
                Attention.of(b.diffusionFlashAttention)), backend);
        this.vae = firstStage.replacesVae() ? null : new VaeRunner(new AutoencoderKL(config.vae(),
                Scope.of(weights, Sd1Component.VAE.prefix()), Attention.of(b.vaeFlashAttention), b.vaeConvDirect),
                backend, firstStage.options().tiling());
        this.loadSeconds = (System.nanoTime() - start) / 1e9;
        LOG.info("loaded {} ({}) in {} s: {} MiB of weights on {}", modelPath.getFileName(), Sd1Layout.describe(config),
                String.format("%.2f", loadSeconds), weights.bufferBytes() >> 20, backend.device().name());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Seconds the load took. */
    public double loadSeconds() {
        return loadSeconds;
    }

    public Sd1Config config() {
        return config;
    }

    public Path modelPath() {
        return modelPath;
    }

    public Backend backend() {
        return backend;
    }

    /** Bytes of weights on the backend. */
    public long weightBytes() {
        return weights.bufferBytes();
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
        int factor = 1 << (config.vae().levels() - 1);
        int multiple = factor << (config.unet().levels() - 1);
        if (req.width() % multiple != 0 || req.height() % multiple != 0) {
            throw new InvalidParameterException(req.width() % multiple != 0 ? "width" : "height", "must be a multiple of "
                    + multiple + " for this model (the VAE scales by " + factor + " and the U-Net halves the latent "
                    + (config.unet().levels() - 1) + " times), got " + req.width() + "x" + req.height());
        }
        int w = req.width() / factor;
        int h = req.height() / factor;
        int z = config.unet().inChannels();
        int latentSize = w * h * z;
        Rng rng = req.rng().create(req.seed());
        float[] fullSigmas = denoiser.sigmas(req.scheduler(), req.steps());
        float[] sigmas = req.isImageToImage()
                ? Img2ImgSchedule.of(fullSigmas, req.steps(), req.strength()).sigmas() : fullSigmas;

        double encodeSeconds = 0;
        float[] initLatent = new float[latentSize];
        if (req.isImageToImage()) {
            long t0 = System.nanoTime();
            listener.onProgress(new Progress(Phase.IMAGE_ENCODING, 0, 1, 0, 0));
            initLatent = firstStage.encode(req.initImage(), req.width(), req.height(),
                    () -> encodeImage(req.initImage(), req.width(), req.height(), rng));
            encodeSeconds = (System.nanoTime() - t0) / 1e9;
            listener.onProgress(new Progress(Phase.IMAGE_ENCODING, 1, 1, 0, encodeSeconds));
        }
        checkCancel(cancel);

        long t0 = System.nanoTime();
        int clipSkip = req.effectiveClipSkip();
        boolean useUncond = req.cfgScale() != 1.0f;
        int textJobs = useUncond ? 2 : 1;
        listener.onProgress(new Progress(Phase.TEXT_ENCODING, 0, textJobs, 0, 0));
        TokenizedPrompt condTokens = tokenizer.tokenizeWeighted(req.prompt());
        float[] cond = textEncoder.encode(condTokens, clipSkip);
        float[] uncond = null;
        int uncondLen = 0;
        if (useUncond) {
            TokenizedPrompt uncondTokens = tokenizer.tokenizeWeighted(req.negativePrompt());
            uncond = textEncoder.encode(uncondTokens, clipSkip);
            uncondLen = uncondTokens.length();
        }
        double textSeconds = (System.nanoTime() - t0) / 1e9;
        listener.onProgress(new Progress(Phase.TEXT_ENCODING, textJobs, textJobs, 0, textSeconds));

        double sampleSeconds = 0;
        double decodeSeconds = 0;
        List<GeneratedImage> images = new ArrayList<>();
        int steps = sigmas.length - 1;
        LatentDecoder klDecoder = (lat, lw, lh) -> decodeImage(lat, lw, lh, z, factor);
        ModelFn model = firstStage.withPreview(denoiseFunction(w, h, cond, condTokens.length(), uncond, uncondLen,
                req.cfgScale()), denoiser, w, h, klDecoder);
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
            long d0 = System.nanoTime();
            listener.onProgress(new Progress(Phase.DECODING, 0, 1, image, 0));
            images.add(new GeneratedImage(firstStage.decode(latent, w, h, klDecoder), seed, b));
            double d = (System.nanoTime() - d0) / 1e9;
            decodeSeconds += d;
            listener.onProgress(new Progress(Phase.DECODING, 1, 1, image, d));
        }
        return new GenerationResult(images, req, new Timings(textSeconds, encodeSeconds, sampleSeconds, decodeSeconds, steps));
    }

    /**
     * D(x, σ) for the sampler: scale the input by c_in, run the U-Net for the prompt (and for the negative prompt
     * when guidance is on), combine with classifier-free guidance, and turn the noise prediction into a denoised
     * latent — all in float on the CPU, in sd.cpp's order.
     */
    private ModelFn denoiseFunction(int w, int h, float[] cond, int condLen, float[] uncond, int uncondLen, float cfg) {
        return (xt, sigma) -> {
            Scalings s = denoiser.scalings(sigma);
            float t = denoiser.timestep(sigma);
            float[] in = Denoiser.scale(xt, s.cIn());
            float[] out = unet.predict(in, w, h, t, cond, condLen);
            if (uncond != null) {
                float[] outUncond = unet.predict(in, w, h, t, uncond, uncondLen);
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

    /** Latent → pixels: divide by the scale factor, decode, map [-1, 1] to [0, 255] with rounding. */
    private BufferedImage decodeImage(float[] latent, int w, int h, int z, int factor) {
        float[] scaled = new float[latent.length];
        for (int i = 0; i < latent.length; i++) {
            scaled[i] = latent[i] / LATENT_SCALE;
        }
        return Images.toImage(vae.decode(scaled, w, h, z), w * factor, h * factor);
    }

    /** Pixels → latent: VAE encoder, a sample of the posterior drawn with {@code rng}, times the scale factor. */
    private float[] encodeImage(BufferedImage image, int width, int height, Rng rng) {
        float[] moments = vae.encode(Images.toTensor(image, width, height), width, height);
        int n = moments.length / 2;
        float[] noise = rng.randn(n);
        float[] latent = new float[n];
        for (int i = 0; i < n; i++) {
            float logvar = Math.max(-30.0f, Math.min(20.0f, moments[n + i]));
            float std = (float) Math.exp(0.5f * logvar);
            latent[i] = (moments[i] + std * noise[i]) * LATENT_SCALE;
        }
        return latent;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                textEncoder.close();
                unet.close();
                firstStage.close();
                weights.close();
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
        private ProgressListener listener = ProgressListener.NONE;
        private FirstStageOptions firstStage = FirstStageOptions.DEFAULT;
        private boolean diffusionFlashAttention;
        private boolean vaeFlashAttention;
        private boolean vaeConvDirect;

        private Builder() {
        }

        /** The checkpoint (.safetensors, SD 1.x single-file layout). */
        public Builder model(Path v) { model = v; return this; }
        /** The CLIP BPE merges file, or a folder with merges.txt; default: tokenizer/ next to the model. */
        public Builder tokenizer(Path v) { tokenizer = v; return this; }
        /** cpu, vulkan, cuda, a device name (Vulkan0), or best (default: the first hardware GPU, else CPU). */
        public Builder backend(String v) { backend = v; return this; }
        /** CPU threads; ≤ 0 means all cores. */
        public Builder threads(int v) { threads = v; return this; }
        /** Convert linear weights to this type on load (f16, q8_0, q5_0, q5_1, q4_0, q4_1, ...); null keeps the file's. */
        public Builder weightType(GgmlType v) { weightType = v; return this; }
        /** Told about loading progress. */
        public Builder listener(ProgressListener v) { listener = v == null ? ProgressListener.NONE : v; return this; }
        /** TAESD, previews and VAE tiling (default: the KL VAE, no previews, tiling only as a fallback). */
        public Builder firstStage(FirstStageOptions v) { firstStage = v == null ? FirstStageOptions.DEFAULT : v; return this; }
        /** Flash attention (ggml_flash_attn_ext, k/v in F16) in the U-Net (--diffusion-fa) and in the VAE (--fa). */
        public Builder flashAttention(boolean diffusion, boolean vae) {
            diffusionFlashAttention = diffusion;
            vaeFlashAttention = vae;
            return this;
        }
        /** Convolve in the VAE and TAESD with ggml_conv_2d_direct (--vae-conv-direct): no im2col buffer. */
        public Builder vaeConvDirect(boolean v) { vaeConvDirect = v; return this; }

        public StableDiffusion build() {
            return new StableDiffusion(this);
        }
    }
}
