package io.sdj.image;

import io.sdj.InvalidParameterException;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The generation settings recorded in an image, and their sd-webui style "infotext" as stable-diffusion.cpp writes
 * it into the PNG {@code parameters} text chunk ({@link #toInfotext()}):
 *
 * <pre>
 * PROMPT
 * Negative prompt: NEGATIVE            (only when not empty)
 * Steps: 20, CFG scale: 7.000000, Guidance: 3.500000, Eta: inf, Seed: 42, Size: 64x64, Model: NAME, RNG: cuda,
 * [Sampler RNG: X, ]Sampler: euler_a discrete, [VAE: NAME, ][Clip skip: N, ]Version: GENERATOR, SDCPP: {JSON}
 * </pre>
 *
 * (the third part is one line). Floats are printed like C's {@code %f} ("inf" for infinity), file names as their
 * base name, and the trailing JSON object ({@link #sdcppJson()}) has sorted keys as nlohmann::json writes them.
 * With {@link Generator#STABLE_DIFFUSION_CPP} the text is byte for byte what sd-cli 97d2990 writes for the same
 * settings (fields sdj does not have — LoRA, skip-layer guidance, hires, custom sigmas, extra text encoders — are
 * left out, as sd-cli does when they are unset).
 *
 * @param prompt            positive prompt as the user gave it
 * @param negativePrompt    negative prompt ("" for none)
 * @param steps             sampling steps
 * @param cfgScale          classifier-free guidance scale ("CFG scale", JSON txt_cfg)
 * @param guidance          distilled guidance (sd-cli default 3.5; unused by SD1 but recorded)
 * @param eta               sampler eta; +infinity means "sampler default" (printed "inf", JSON null)
 * @param seed              seed of this image
 * @param width             image width in pixels
 * @param height            image height in pixels
 * @param model             model path (recorded as its base name)
 * @param vae               separate VAE path, or null
 * @param taesd             TAESD path (--taesd), or null; JSON only, as sd-cli writes it
 * @param rng               RNG name ("cuda" or "cpu")
 * @param samplerRng        separate sampler RNG name, or null when it follows {@code rng}
 * @param sampleMethod      sampler name as sd-cli spells it ("euler_a", "dpm++2m", ...)
 * @param scheduler         scheduler name ("discrete", "karras", ...), or null to leave it out
 * @param clipSkip          CLIP skip as requested; -1 (unset) is not printed
 * @param strength          img2img strength (recorded in the JSON even for txt2img; sd-cli default 0.75)
 * @param controlStrength   ControlNet strength (JSON only; sd-cli default 0.9)
 * @param ipAdapterStrength IP-adapter strength (JSON only; default 1.0)
 * @param generator         who made the image
 */
public record ImageParameters(String prompt, String negativePrompt, int steps, float cfgScale, float guidance,
                              float eta, long seed, int width, int height, String model, String vae, String taesd, String rng,
                              String samplerRng, String sampleMethod, String scheduler, int clipSkip, float strength,
                              float controlStrength, float ipAdapterStrength, Generator generator) {

    /** JSON schema name sd.cpp writes. */
    public static final String SCHEMA = "sdcpp.image.params/v1";

    /**
     * The program named in the metadata.
     *
     * @param name    printed after "Version: " and as generator.name
     * @param version generator.version
     * @param commit  generator.commit
     */
    public record Generator(String name, String version, String commit) {
        /** sd-cli of the golden reference build (commit 97d2990). */
        public static final Generator STABLE_DIFFUSION_CPP = new Generator("stable-diffusion.cpp", "master-827-97d2990+", "97d29908");
        /** sdj itself; version and commit unknown until a build fills them in. */
        public static final Generator SDJ = new Generator("sdj", "dev", "unknown");

        public Generator {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(commit, "commit");
        }
    }

    public ImageParameters {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        Objects.requireNonNull(rng, "rng");
        Objects.requireNonNull(sampleMethod, "sampleMethod");
        Objects.requireNonNull(generator, "generator");
        if (steps <= 0) {
            throw new InvalidParameterException("steps", "must be positive, got " + steps);
        }
        if (width <= 0 || height <= 0) {
            throw new InvalidParameterException("size", "must be positive, got " + width + "x" + height);
        }
    }

    /** A builder with sd-cli's defaults (20 steps, cfg 7, guidance 3.5, eta inf, 512x512, euler_a discrete, cuda). */
    public static Builder builder() {
        return new Builder();
    }

    /** The infotext ("parameters" chunk text). */
    public String toInfotext() {
        StringBuilder sb = new StringBuilder();
        sb.append(prompt).append('\n');
        if (!negativePrompt.isEmpty()) {
            sb.append("Negative prompt: ").append(negativePrompt).append('\n');
        }
        sb.append("Steps: ").append(steps).append(", ");
        sb.append("CFG scale: ").append(cFixed(cfgScale)).append(", ");
        sb.append("Guidance: ").append(cFixed(guidance)).append(", ");
        sb.append("Eta: ").append(cFixed(eta)).append(", ");
        sb.append("Seed: ").append(seed).append(", ");
        sb.append("Size: ").append(width).append('x').append(height).append(", ");
        sb.append("Model: ").append(model == null ? "" : baseName(model)).append(", ");
        sb.append("RNG: ").append(rng).append(", ");
        if (samplerRng != null) {
            sb.append("Sampler RNG: ").append(samplerRng).append(", ");
        }
        sb.append("Sampler: ").append(sampleMethod);
        if (scheduler != null) {
            sb.append(' ').append(scheduler);
        }
        sb.append(", ");
        if (vae != null && !vae.isEmpty()) {
            sb.append("VAE: ").append(baseName(vae)).append(", ");
        }
        if (clipSkip != -1) {
            sb.append("Clip skip: ").append(clipSkip).append(", ");
        }
        sb.append("Version: ").append(generator.name());
        sb.append(", SDCPP: ").append(sdcppJson());
        return sb.toString();
    }

    /** The JSON object that ends the infotext (sd.cpp schema {@value #SCHEMA}). */
    public String sdcppJson() {
        Map<String, Object> root = new TreeMap<>();
        root.put("schema", SCHEMA);
        root.put("mode", "img_gen");
        root.put("generator", sorted("name", generator.name(), "version", generator.version(), "commit", generator.commit()));
        root.put("seed", seed);
        root.put("width", width);
        root.put("height", height);
        root.put("prompt", sorted("positive", prompt, "negative", negativePrompt));
        Map<String, Object> slg = sorted("scale", 0.0f, "layers", List.of(7, 8, 9), "start", 0.01f, "end", 0.2f);
        Map<String, Object> guidanceJson = sorted("txt_cfg", cfgScale, "img_cfg", Float.POSITIVE_INFINITY,
                "distilled_guidance", guidance, "slg", slg);
        Map<String, Object> sampling = sorted("steps", steps, "eta", eta, "shifted_timestep", 0,
                "flow_shift", Float.POSITIVE_INFINITY, "extra_sample_args", "", "guidance", guidanceJson,
                "method", sampleMethod, "custom_sigmas", List.of());
        if (scheduler != null) {
            sampling.put("scheduler", scheduler);
        }
        root.put("sampling", sampling);
        Map<String, Object> models = new TreeMap<>();
        if (model != null && !model.isEmpty()) {
            models.put("model", baseName(model));
        }
        if (vae != null && !vae.isEmpty()) {
            models.put("vae", baseName(vae));
        }
        if (taesd != null && !taesd.isEmpty()) {
            models.put("taesd", baseName(taesd));
        }
        root.put("models", models.isEmpty() ? null : models);
        root.put("clip_skip", clipSkip);
        root.put("strength", strength);
        root.put("control_strength", controlStrength);
        root.put("ip_adapter_strength", ipAdapterStrength);
        root.put("auto_resize_ref_image", true);
        root.put("increase_ref_index", false);
        root.put("rng", rng);
        if (samplerRng != null) {
            root.put("sampler_rng", samplerRng);
        }
        return SdcppJson.toJson(root);
    }

    private static Map<String, Object> sorted(Object... kv) {
        Map<String, Object> m = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** A float as C's {@code printf("%f")} prints it (std::to_string): 6 decimals, "inf", "-inf", "nan". */
    static String cFixed(float f) {
        if (Float.isNaN(f)) {
            return "nan";
        }
        if (Float.isInfinite(f)) {
            return f > 0 ? "inf" : "-inf";
        }
        String s = new BigDecimal((double) f).setScale(6, RoundingMode.HALF_EVEN).toPlainString();
        boolean negative = Float.floatToRawIntBits(f) < 0;
        return negative && !s.startsWith("-") ? "-" + s : s;
    }

    /** The last path component, split at '/' or '\' as sd.cpp does. */
    static String baseName(String path) {
        int i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
        return path.substring(i + 1);
    }

    /** Builder for {@link ImageParameters}; every setter returns the builder. */
    public static final class Builder {
        private String prompt = "";
        private String negativePrompt = "";
        private int steps = 20;
        private float cfgScale = 7.0f;
        private float guidance = 3.5f;
        private float eta = Float.POSITIVE_INFINITY;
        private long seed = 42;
        private int width = 512;
        private int height = 512;
        private String model;
        private String vae;
        private String taesd;
        private String rng = "cuda";
        private String samplerRng;
        private String sampleMethod = "euler_a";
        private String scheduler = "discrete";
        private int clipSkip = -1;
        private float strength = 0.75f;
        private float controlStrength = 0.9f;
        private float ipAdapterStrength = 1.0f;
        private Generator generator = Generator.SDJ;

        private Builder() {
        }

        public Builder prompt(String v) { prompt = v; return this; }
        public Builder negativePrompt(String v) { negativePrompt = v; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder cfgScale(float v) { cfgScale = v; return this; }
        public Builder guidance(float v) { guidance = v; return this; }
        public Builder eta(float v) { eta = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder size(int w, int h) { width = w; height = h; return this; }
        public Builder model(String v) { model = v; return this; }
        public Builder vae(String v) { vae = v; return this; }
        public Builder taesd(String v) { taesd = v; return this; }
        public Builder rng(String v) { rng = v; return this; }
        public Builder samplerRng(String v) { samplerRng = v; return this; }
        public Builder sampleMethod(String v) { sampleMethod = v; return this; }
        public Builder scheduler(String v) { scheduler = v; return this; }
        public Builder clipSkip(int v) { clipSkip = v; return this; }
        public Builder strength(float v) { strength = v; return this; }
        public Builder controlStrength(float v) { controlStrength = v; return this; }
        public Builder ipAdapterStrength(float v) { ipAdapterStrength = v; return this; }
        public Builder generator(Generator v) { generator = v; return this; }

        public ImageParameters build() {
            return new ImageParameters(prompt, negativePrompt, steps, cfgScale, guidance, eta, seed, width, height,
                    model, vae, taesd, rng, samplerRng, sampleMethod, scheduler, clipSkip, strength, controlStrength,
                    ipAdapterStrength, generator);
        }
    }
}
