package io.sdj.pipeline;

import io.sdj.family.WeightTypePolicy;

import io.sdj.model.SafetensorsFile;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.WeightStore;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.Taesd;
import io.sdj.vae.VaeTiling;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * A loaded TAESD (tiny autoencoder) on a backend: decodes diffusion latents to pictures and, when its encoder was
 * loaded, encodes init images to latents. Weights are kept as sd.cpp keeps them: convolution kernels F16, biases
 * F32, whatever {@code --type} says.
 */
final class TaesdRunner implements LatentDecoder, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TaesdRunner.class);

    private final Path file;
    private final WeightStore weights;
    private final Taesd taesd;
    private final FirstStageRunner runner;
    private final boolean hasEncoder;

    private TaesdRunner(Path file, WeightStore weights, boolean hasEncoder, Backend backend, VaeTiling tiling,
                        boolean directConv) {
        this.file = file;
        this.weights = weights;
        this.hasEncoder = hasEncoder;
        this.taesd = new Taesd(Scope.of(weights, ""), directConv);
        this.runner = new FirstStageRunner(backend, tiling, "taesd");
    }

    /**
     * Loads the decoder, and the encoder too when {@code withEncoder}, from a TAESD .safetensors file.
     *
     * @throws io.sdj.model.ModelFormatException naming the file and tensor when a needed tensor is missing or has
     *                                           the wrong shape or type
     */
    static TaesdRunner load(Path file, boolean withEncoder, Backend backend, VaeTiling tiling) {
        return load(file, withEncoder, backend, tiling, false);
    }

    /** As {@link #load(Path, boolean, Backend, VaeTiling)}, convolving with ggml_conv_2d_direct when asked. */
    static TaesdRunner load(Path file, boolean withEncoder, Backend backend, VaeTiling tiling, boolean directConv) {
        List<Taesd.Part> parts = withEncoder ? List.of(Taesd.Part.ENCODER, Taesd.Part.DECODER)
                : List.of(Taesd.Part.DECODER);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Taesd.validate(f, parts);
            List<io.sdj.model.Component> components = parts.stream()
                    .map(p -> new io.sdj.model.Component("taesd " + p.name().toLowerCase(java.util.Locale.ROOT),
                            p.prefix() + "layers.")).toList();
            List<String> names = f.tensors().values().stream()
                    .filter(t -> WeightTypePolicy.isWeight(t) && components.stream().anyMatch(c -> c.owns(t.name())))
                    .map(io.sdj.model.TensorInfo::name).toList();
            WeightStore ws = WeightLoader.load(f, names, components, backend, new WeightTypePolicy(null), "taesd",
                    (n, total) -> {
                    });
            LOG.info("loaded TAESD {} ({}): {} tensors, {} KiB", file.getFileName(),
                    withEncoder ? "encoder and decoder" : "decoder", ws.tensors().size(), ws.bufferBytes() >> 10);
            return new TaesdRunner(file, ws, withEncoder, backend, tiling, directConv);
        }
    }

    Path file() {
        return file;
    }

    long weightBytes() {
        return weights.bufferBytes();
    }

    /** Latent [w, h, 4] → picture [8w, 8h]: decoder output clamped to [0, 1], × 255, rounded. */
    @Override
    public BufferedImage decode(float[] latent, int w, int h) {
        Planar img = runner.decode(new Planar(latent, w, h, Taesd.LATENT_CHANNELS), Taesd.SCALE, taesd::decode);
        return Images.unitToImage(img.data(), img.width(), img.height());
    }

    /** Picture (resized to width×height) → the diffusion latent itself, [width/8, height/8, 4]. */
    float[] encode(BufferedImage image, int width, int height) {
        if (!hasEncoder) {
            throw new IllegalStateException("TAESD was loaded for previews only; its encoder is not loaded");
        }
        return runner.encode(new Planar(Images.toUnitTensor(image, width, height), width, height, 3), Taesd.SCALE,
                taesd::encode).data();
    }

    @Override
    public void close() {
        weights.close();
    }
}
