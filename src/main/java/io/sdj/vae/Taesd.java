package io.sdj.vae;

import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import io.sdj.runtime.GgmlException;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TAESD, the tiny autoencoder for SD 1.x latents (madebyollin's taesd, in diffusers' {@code AutoencoderTiny} file
 * layout: {@code encoder.layers.N…}, {@code decoder.layers.N…}), as ggml graphs built the way stable-diffusion.cpp
 * builds them. Both halves are plain stacks of 3×3 convolutions (64 channels) and {@link #block residual blocks};
 * the decoder upsamples three times by nearest neighbour, the encoder downsamples three times with stride-2
 * convolutions.
 *
 * <p>Unlike the KL autoencoder, TAESD works on the diffusion latent as it is (no 0.18215 scale factor), its
 * decoder's output is the image in [0, 1] and its encoder takes the image in [0, 1] and returns the latent itself (no
 * posterior to sample).
 */
public final class Taesd {
    /** Channels of every hidden layer. */
    public static final int CHANNELS = 64;
    /** Latent channels (SD 1.x). */
    public static final int LATENT_CHANNELS = 4;
    /** Pixels per latent pixel along each axis. */
    public static final int SCALE = 8;

    /** One layer of the stack, by its index under {@code layers.}. */
    private sealed interface Stage {
        /** A 3×3 convolution, padding 1. */
        record Conv(int index, int in, int out, int stride, boolean bias) implements Stage {
        }

        /** A residual {@link #block} (64 → 64). */
        record Block(int index) implements Stage {
        }

        /** ReLU (no tensors). */
        record Relu() implements Stage {
        }

        /** Nearest-neighbour upsampling by 2 (no tensors). */
        record Upsample() implements Stage {
        }
    }

    private static final List<Stage> DECODER = decoderStages();
    private static final List<Stage> ENCODER = encoderStages();

    private final Scope weights;
    private final boolean directConv;

    /** @param weights the scope holding {@code decoder.layers.*} (and {@code encoder.layers.*} to encode) */
    public Taesd(Scope weights) {
        this(weights, false);
    }

    /** @param directConv convolve with ggml_conv_2d_direct (sd-cli's {@code --vae-conv-direct}) */
    public Taesd(Scope weights, boolean directConv) {
        this.weights = weights;
        this.directConv = directConv;
    }

    /** Latent [w, h, 4, N] to image [8w, 8h, 3, N] in [0, 1] (not clamped). */
    public Tensor decode(Graph g, Tensor z) {
        requireChannels("decode", z, LATENT_CHANNELS);
        Tensor h = g.scale(z, 1.0f / 3.0f);
        h = g.tanh(h);
        h = g.scale(h, 3.0f);
        return run(g, h, DECODER, weights.sub("decoder").sub("layers"), directConv);
    }

    /** Image [W, H, 3, N] in [0, 1] (W and H multiples of 8) to the latent [W/8, H/8, 4, N]. */
    public Tensor encode(Graph g, Tensor x) {
        requireChannels("encode", x, 3);
        if (x.ne(0) % SCALE != 0 || x.ne(1) % SCALE != 0) {
            throw new GgmlException("TAESD encode: image " + x.ne(0) + "x" + x.ne(1)
                    + " is not a multiple of " + SCALE);
        }
        return run(g, x, ENCODER, weights.sub("encoder").sub("layers"), directConv);
    }

    /**
     * The TAESD block: three 3×3 convolutions with ReLU between them, plus the input, then ReLU. In and out channels
     * are equal everywhere in TAESD, so the skip is the identity.
     */
    public static Tensor block(Graph g, Tensor x, Scope s) {
        return block(g, x, s, false);
    }

    private static Tensor block(Graph g, Tensor x, Scope s, boolean direct) {
        Tensor h = conv(g, x, s.sub("conv.0"), 1, direct);
        h = g.relu(h);
        h = conv(g, h, s.sub("conv.2"), 1, direct);
        h = g.relu(h);
        h = conv(g, h, s.sub("conv.4"), 1, direct);
        return g.relu(g.add(h, x));
    }

    /** 3×3 convolution with padding 1. */
    private static Tensor conv(Graph g, Tensor x, Scope s, int stride, boolean direct) {
        return direct ? Layers.conv2dDirect(g, x, s, stride, 1) : Layers.conv2d(g, x, s, stride, 1);
    }

    private static Tensor run(Graph g, Tensor x, List<Stage> stages, Scope layers, boolean direct) {
        Tensor h = x;
        for (Stage stage : stages) {
            h = switch (stage) {
                case Stage.Conv c -> conv(g, h, layers.sub(c.index()), c.stride(), direct);
                case Stage.Block b -> block(g, h, layers.sub(b.index()), direct);
                case Stage.Relu r -> g.relu(h);
                case Stage.Upsample u -> g.upscaleNearest(h, 2);
            };
        }
        return h;
    }

    private static void requireChannels(String op, Tensor t, int channels) {
        if (t.ne(2) != channels) {
            throw new GgmlException("TAESD " + op + ": input has " + t.ne(2) + " channels, expected "
                    + channels);
        }
    }

    // --- layout ------------------------------------------------------------------------------------------------

    /** Which halves a use of TAESD needs. */
    public enum Part {
        DECODER("decoder."), ENCODER("encoder.");

        private final String prefix;

        Part(String prefix) {
            this.prefix = prefix;
        }

        /** The name prefix of this half's tensors. */
        public String prefix() {
            return prefix;
        }
    }

    /** Every tensor a half has: name → shape (outermost first), in layer order. */
    public static Map<String, long[]> expectedTensors(Part part) {
        Map<String, long[]> m = new LinkedHashMap<>();
        String prefix = part.prefix() + "layers.";
        for (Stage s : part == Part.DECODER ? DECODER : ENCODER) {
            switch (s) {
                case Stage.Conv c -> {
                    m.put(prefix + c.index() + ".weight", new long[]{c.out(), c.in(), 3, 3});
                    if (c.bias()) {
                        m.put(prefix + c.index() + ".bias", new long[]{c.out()});
                    }
                }
                case Stage.Block b -> {
                    for (int conv : new int[]{0, 2, 4}) {
                        String n = prefix + b.index() + ".conv." + conv;
                        m.put(n + ".weight", new long[]{CHANNELS, CHANNELS, 3, 3});
                        m.put(n + ".bias", new long[]{CHANNELS});
                    }
                }
                case Stage.Relu r -> {
                }
                case Stage.Upsample u -> {
                }
            }
        }
        return m;
    }

    /**
     * Checks that {@code file} holds every tensor of the given halves with its TAESD shape (extra tensors are
     * ignored, as sd.cpp ignores them).
     *
     * @throws ModelFormatException naming the file and the first missing or misshapen tensor
     */
    public static void validate(TensorSource file, List<Part> parts) {
        for (Part part : parts) {
            for (Map.Entry<String, long[]> e : expectedTensors(part).entrySet()) {
                TensorInfo t = file.tensors().get(e.getKey());
                if (t == null) {
                    throw new ModelFormatException(file.path(), e.getKey(), "TAESD tensor is missing"
                            + (file.tensors().keySet().stream().anyMatch(n -> n.startsWith(part.prefix())) ? ""
                            : " (the file has no " + part.prefix() + "* tensors; is it a TAESD file in the "
                            + "diffusers AutoencoderTiny layout?)"));
                }
                if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
                    throw new ModelFormatException(file.path(), e.getKey(), "has dtype " + t.dtype()
                            + "; TAESD weights must be F32, F16 or BF16");
                }
                if (!t.hasShape(e.getValue())) {
                    throw new ModelFormatException(file.path(), e.getKey(), "has shape " + t.shapeString()
                            + ", TAESD expects " + TensorInfo.formatShape(e.getValue()));
                }
            }
        }
    }

    private static List<Stage> decoderStages() {
        List<Stage> s = new ArrayList<>();
        s.add(new Stage.Conv(0, LATENT_CHANNELS, CHANNELS, 1, true));
        s.add(new Stage.Relu()); // index 1
        int index = 2;
        for (int up = 0; up < 3; up++) {
            for (int i = 0; i < 3; i++) {
                s.add(new Stage.Block(index++));
            }
            s.add(new Stage.Upsample());
            index++;
            s.add(new Stage.Conv(index++, CHANNELS, CHANNELS, 1, false));
        }
        s.add(new Stage.Block(index++));
        s.add(new Stage.Conv(index, CHANNELS, 3, 1, true));
        return List.copyOf(s);
    }

    private static List<Stage> encoderStages() {
        List<Stage> s = new ArrayList<>();
        s.add(new Stage.Conv(0, 3, CHANNELS, 1, true));
        s.add(new Stage.Block(1));
        int index = 2;
        for (int down = 0; down < 3; down++) {
            s.add(new Stage.Conv(index++, CHANNELS, CHANNELS, 2, false));
            for (int i = 0; i < 3; i++) {
                s.add(new Stage.Block(index++));
            }
        }
        s.add(new Stage.Conv(index, CHANNELS, LATENT_CHANNELS, 1, true));
        return List.copyOf(s);
    }
}
