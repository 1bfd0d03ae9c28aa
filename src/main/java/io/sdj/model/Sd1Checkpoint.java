package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An SD 1.x checkpoint, opened and checked: the container is a safetensors file, the tensors are SD 1.x in the
 * original LDM layout ({@link ModelDetector}), the configuration is inferred from the shapes ({@link Sd1Layout#infer})
 * and every tensor it needs is present with the right shape ({@link Sd1Layout#validate}). Holds the mapped file
 * until closed.
 */
public final class Sd1Checkpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sd1Checkpoint.class);

    /** Number of DDPM timesteps of SD 1.x (length of alphas_cumprod). */
    public static final int TIMESTEPS = 1000;

    private final SafetensorsFile file;
    private final Sd1Config config;
    private final float[] alphasCumprod;
    private final List<String> ignored;

    private Sd1Checkpoint(SafetensorsFile file, Sd1Config config, float[] alphasCumprod, List<String> ignored) {
        this.file = file;
        this.config = config;
        this.alphasCumprod = alphasCumprod;
        this.ignored = ignored;
    }

    /**
     * Opens and checks a checkpoint.
     *
     * @throws UnsupportedModelException if it is another family (SD 2.x, SDXL, ...), a diffusers folder or another
     *                                   container format
     * @throws ModelFormatException      if the file is malformed or lacks tensors its configuration needs
     */
    public static Sd1Checkpoint open(Path path) {
        ModelDetector.checkContainer(path);
        SafetensorsFile f = SafetensorsFile.open(path);
        try {
            ModelDetector.requireSd1(f);
            Sd1Config config = Sd1Layout.infer(f);
            Sd1Layout.Validation v = Sd1Layout.validate(f, config);
            float[] ac = readAlphasCumprod(f);
            LOG.info("{}: {} ({} tensors), {}{}", path, ModelVersion.SD1.displayName(), f.tensors().size(),
                    Sd1Layout.describe(config), ac == null ? "" : ", alphas_cumprod from the file");
            return new Sd1Checkpoint(f, config, ac, v.ignored());
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static float[] readAlphasCumprod(SafetensorsFile f) {
        if (!f.contains(Sd1Layout.ALPHAS_CUMPROD)) {
            return null;
        }
        float[] ac = f.readFloats(Sd1Layout.ALPHAS_CUMPROD);
        if (ac.length != TIMESTEPS) {
            throw new ModelFormatException(f.path(), Sd1Layout.ALPHAS_CUMPROD, "expected " + TIMESTEPS
                    + " values, found " + ac.length);
        }
        for (int i = 0; i < ac.length; i++) {
            if (!(ac[i] > 0f && ac[i] <= 1f)) {
                throw new ModelFormatException(f.path(), Sd1Layout.ALPHAS_CUMPROD, "value " + ac[i] + " at index " + i
                        + " is outside (0, 1]");
            }
        }
        return ac;
    }

    /** The file path. */
    public Path path() {
        return file.path();
    }

    /** The mapped file. */
    public SafetensorsFile file() {
        return file;
    }

    /** The configuration read from the shapes. */
    public Sd1Config config() {
        return config;
    }

    /** A copy of the file's alphas_cumprod (1000 values, as stored, widened to float), if it has one. */
    public Optional<float[]> alphasCumprod() {
        return alphasCumprod == null ? Optional.empty() : Optional.of(alphasCumprod.clone());
    }

    /** Tensors under a component prefix that the configuration does not use. */
    public List<String> ignoredTensors() {
        return ignored;
    }

    /** The tensor {@code local} of a component, e.g. {@code tensor(UNET, "out.2.weight")}. */
    public TensorInfo tensor(Sd1Component component, String local) {
        return file.info(component.name(local));
    }

    /** The mapped bytes of a component's tensor; valid until {@link #close()}. */
    public MemorySegment data(Sd1Component component, String local) {
        return file.data(component.name(local));
    }

    @Override
    public void close() {
        file.close();
    }
}
