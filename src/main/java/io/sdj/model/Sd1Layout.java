package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The tensor layout of an SD 1.x checkpoint (original LDM single-file naming): which tensors a configuration needs
 * and with what shapes ({@link #expectedTensors}), how a configuration is read back from a file's shapes
 * ({@link #infer}), and the check that a file has exactly what its configuration needs ({@link #validate}).
 *
 * <p>Shapes are written outermost first, as in the file: conv weights {@code [out, in, k, k]}, linear weights
 * {@code [out, in]}, norms and biases {@code [c]}.
 */
public final class Sd1Layout {
    private static final Logger LOG = LoggerFactory.getLogger(Sd1Layout.class);

    /** The optional DDPM schedule buffer sd.cpp reads (F16 [1000] in SD1 files). */
    public static final String ALPHAS_CUMPROD = "alphas_cumprod";

    /** The optional CLIP position-id buffer ({@code [1, max_positions]}); sd.cpp ignores it. */
    public static final String POSITION_IDS = Sd1Component.CLIP.name("embeddings.position_ids");

    /** Metadata key sdj's test models use for a U-Net head count other than 8 (real checkpoints do not carry it). */
    public static final String HEADS_METADATA_KEY = "sdj.unet.num_heads";

    /** How many problems a validation error lists before it stops. */
    private static final int MAX_LISTED = 12;

    private Sd1Layout() {
    }

    // ------------------------------------------------------------------------------------------ expected layout

    /** Every parameter tensor of the configuration, U-Net then VAE then CLIP, in module order, with its shape. */
    public static Map<String, long[]> expectedTensors(Sd1Config config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        out.putAll(expectedTensors(Sd1Component.UNET, config));
        out.putAll(expectedTensors(Sd1Component.VAE, config));
        out.putAll(expectedTensors(Sd1Component.CLIP, config));
        return out;
    }

    /** The parameter tensors of one component, in module order, full names. */
    public static Map<String, long[]> expectedTensors(Sd1Component component, Sd1Config config) {
        Builder b = new Builder(component.prefix());
        switch (component) {
            case UNET -> unet(b, config.unet());
            case VAE -> vae(b, config.vae());
            case CLIP -> clip(b, config.clip());
        }
        return Collections.unmodifiableMap(b.map);
    }

    private static final class Builder {
        final String prefix;
        final Map<String, long[]> map = new LinkedHashMap<>();

        Builder(String prefix) {
            this.prefix = prefix;
        }

        void put(String local, long... shape) {
            map.put(prefix + local, shape);
        }

        void norm(String p, int c) {
            put(p + ".weight", c);
            put(p + ".bias", c);
        }

        void linear(String p, int out, int in, boolean bias) {
            put(p + ".weight", out, in);
            if (bias) {
                put(p + ".bias", out);
            }
        }

        void conv(String p, int out, int in, int k) {
            put(p + ".weight", out, in, k, k);
            put(p + ".bias", out);
        }
    }

    private static void unet(Builder b, UnetConfig u) {
        int c0 = u.modelChannels();
        int temb = u.timeEmbedDim();
        b.linear("time_embed.0", temb, c0, true);
        b.linear("time_embed.2", temb, temb, true);
        b.conv("input_blocks.0.0", c0, u.inChannels(), 3);
        List<Integer> skips = new ArrayList<>();
        skips.add(c0);
        int ch = c0;
        int idx = 1;
        for (int level = 0; level < u.levels(); level++) {
            int out = u.channels(level);
            for (int r = 0; r < u.numResBlocks(); r++) {
                resBlock(b, "input_blocks." + idx + ".0", ch, out, temb);
                ch = out;
                if (u.attentionLevels().get(level)) {
                    transformer(b, "input_blocks." + idx + ".1", ch, u);
                }
                skips.add(ch);
                idx++;
            }
            if (level != u.levels() - 1) {
                b.conv("input_blocks." + idx + ".0.op", ch, ch, 3);
                skips.add(ch);
                idx++;
            }
        }
        resBlock(b, "middle_block.0", ch, ch, temb);
        transformer(b, "middle_block.1", ch, u);
        resBlock(b, "middle_block.2", ch, ch, temb);
        idx = 0;
        for (int level = u.levels() - 1; level >= 0; level--) {
            int out = u.channels(level);
            for (int i = 0; i <= u.numResBlocks(); i++) {
                int skip = skips.removeLast();
                resBlock(b, "output_blocks." + idx + ".0", ch + skip, out, temb);
                ch = out;
                int sub = 1;
                if (u.attentionLevels().get(level)) {
                    transformer(b, "output_blocks." + idx + ".1", ch, u);
                    sub = 2;
                }
                if (level > 0 && i == u.numResBlocks()) {
                    b.conv("output_blocks." + idx + "." + sub + ".conv", ch, ch, 3);
                }
                idx++;
            }
        }
        b.norm("out.0", c0);
        b.conv("out.2", u.outChannels(), c0, 3);
    }

    private static void resBlock(Builder b, String p, int in, int out, int temb) {
        b.norm(p + ".in_layers.0", in);
        b.conv(p + ".in_layers.2", out, in, 3);
        b.linear(p + ".emb_layers.1", out, temb, true);
        b.norm(p + ".out_layers.0", out);
        b.conv(p + ".out_layers.3", out, out, 3);
        if (in != out) {
            b.conv(p + ".skip_connection", out, in, 1);
        }
    }

    private static void transformer(Builder b, String p, int ch, UnetConfig u) {
        b.norm(p + ".norm", ch);
        b.conv(p + ".proj_in", ch, ch, 1);
        for (int d = 0; d < u.transformerDepth(); d++) {
            String t = p + ".transformer_blocks." + d;
            b.linear(t + ".attn1.to_q", ch, ch, false);
            b.linear(t + ".attn1.to_k", ch, ch, false);
            b.linear(t + ".attn1.to_v", ch, ch, false);
            b.linear(t + ".attn1.to_out.0", ch, ch, true);
            b.linear(t + ".ff.net.0.proj", ch * 8, ch, true);
            b.linear(t + ".ff.net.2", ch, ch * 4, true);
            b.linear(t + ".attn2.to_q", ch, ch, false);
            b.linear(t + ".attn2.to_k", ch, u.contextDim(), false);
            b.linear(t + ".attn2.to_v", ch, u.contextDim(), false);
            b.linear(t + ".attn2.to_out.0", ch, ch, true);
            b.norm(t + ".norm1", ch);
            b.norm(t + ".norm2", ch);
            b.norm(t + ".norm3", ch);
        }
        b.conv(p + ".proj_out", ch, ch, 1);
    }

    private static void vae(Builder b, VaeConfig v) {
        int levels = v.levels();
        b.conv("encoder.conv_in", v.ch(), v.imageChannels(), 3);
        int in = v.ch();
        for (int level = 0; level < levels; level++) {
            int out = v.channels(level);
            for (int r = 0; r < v.numResBlocks(); r++) {
                resnet(b, "encoder.down." + level + ".block." + r, in, out);
                in = out;
            }
            if (level != levels - 1) {
                b.conv("encoder.down." + level + ".downsample.conv", in, in, 3);
            }
        }
        resnet(b, "encoder.mid.block_1", in, in);
        attnBlock(b, "encoder.mid.attn_1", in);
        resnet(b, "encoder.mid.block_2", in, in);
        b.norm("encoder.norm_out", in);
        b.conv("encoder.conv_out", 2 * v.zChannels(), in, 3);
        b.conv("quant_conv", 2 * v.embedDim(), 2 * v.zChannels(), 1);
        b.conv("post_quant_conv", v.zChannels(), v.embedDim(), 1);
        in = v.channels(levels - 1);
        b.conv("decoder.conv_in", in, v.zChannels(), 3);
        resnet(b, "decoder.mid.block_1", in, in);
        attnBlock(b, "decoder.mid.attn_1", in);
        resnet(b, "decoder.mid.block_2", in, in);
        for (int level = levels - 1; level >= 0; level--) {
            int out = v.channels(level);
            for (int i = 0; i <= v.numResBlocks(); i++) {
                resnet(b, "decoder.up." + level + ".block." + i, in, out);
                in = out;
            }
            if (level != 0) {
                b.conv("decoder.up." + level + ".upsample.conv", in, in, 3);
            }
        }
        b.norm("decoder.norm_out", in);
        b.conv("decoder.conv_out", v.imageChannels(), in, 3);
    }

    private static void resnet(Builder b, String p, int in, int out) {
        b.norm(p + ".norm1", in);
        b.conv(p + ".conv1", out, in, 3);
        b.norm(p + ".norm2", out);
        b.conv(p + ".conv2", out, out, 3);
        if (in != out) {
            b.conv(p + ".nin_shortcut", out, in, 1);
        }
    }

    private static void attnBlock(Builder b, String p, int c) {
        b.norm(p + ".norm", c);
        b.conv(p + ".q", c, c, 1);
        b.conv(p + ".k", c, c, 1);
        b.conv(p + ".v", c, c, 1);
        b.conv(p + ".proj_out", c, c, 1);
    }

    private static void clip(Builder b, ClipTextConfig c) {
        int h = c.hiddenSize();
        b.put("embeddings.token_embedding.weight", c.vocabSize(), h);
        b.put("embeddings.position_embedding.weight", c.maxPositions(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String l = "encoder.layers." + i;
            b.linear(l + ".self_attn.q_proj", h, h, true);
            b.linear(l + ".self_attn.k_proj", h, h, true);
            b.linear(l + ".self_attn.v_proj", h, h, true);
            b.linear(l + ".self_attn.out_proj", h, h, true);
            b.norm(l + ".layer_norm1", h);
            b.linear(l + ".mlp.fc1", c.intermediateSize(), h, true);
            b.linear(l + ".mlp.fc2", h, c.intermediateSize(), true);
            b.norm(l + ".layer_norm2", h);
        }
        b.norm("final_layer_norm", h);
    }

    // ------------------------------------------------------------------------------------------ inference

    /** {@link #infer(Path, Map, Map)} for an open file. */
    public static Sd1Config infer(SafetensorsFile file) {
        return infer(file.path(), file.tensors(), file.metadata());
    }

    /**
     * Reads the configuration from tensor shapes (rules in the parameter docs of {@link UnetConfig},
     * {@link ClipTextConfig}, {@link VaeConfig}). Only the tensors the rules look at are checked here; call
     * {@link #validate} for the full check.
     *
     * @throws ModelFormatException if a tensor the rules need is missing or has an impossible shape
     */
    public static Sd1Config infer(Path file, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        Shapes s = new Shapes(file, tensors);
        return new Sd1Config(inferUnet(s, metadata), inferClip(s), inferVae(s));
    }

    private record Shapes(Path file, Map<String, TensorInfo> tensors) {
        TensorInfo require(String name, int rank) {
            TensorInfo t = tensors.get(name);
            if (t == null) {
                throw new ModelFormatException(file, name, "missing; it is needed to infer the SD 1.x configuration");
            }
            if (t.rank() != rank) {
                throw new ModelFormatException(file, name, "expected " + rank + " dimensions, found shape " + t.shapeString());
            }
            for (long d : t.shape()) {
                if (d <= 0 || d > Integer.MAX_VALUE) {
                    throw new ModelFormatException(file, name, "has an impossible dimension in shape " + t.shapeString());
                }
            }
            return t;
        }

        int dim(String name, int rank, int dim) {
            return (int) require(name, rank).dim(dim);
        }

        boolean hasPrefix(String prefix) {
            for (String n : tensors.keySet()) {
                if (n.startsWith(prefix)) {
                    return true;
                }
            }
            return false;
        }

        /** Distinct non-negative integers N in names "prefix" + N + "." ... */
        TreeSet<Integer> indices(String prefix) {
            TreeSet<Integer> out = new TreeSet<>();
            for (String n : tensors.keySet()) {
                if (!n.startsWith(prefix)) {
                    continue;
                }
                int end = n.indexOf('.', prefix.length());
                if (end <= prefix.length()) {
                    continue;
                }
                String num = n.substring(prefix.length(), end);
                if (num.chars().allMatch(Character::isDigit) && num.length() < 10) {
                    out.add(Integer.parseInt(num));
                }
            }
            return out;
        }

        /** Count of a contiguous index range 0..n-1 under prefix; a gap is a format error. */
        int count(String prefix, String what) {
            TreeSet<Integer> idx = indices(prefix);
            if (idx.isEmpty()) {
                throw new ModelFormatException(file, prefix + "0.*", "missing; expected at least one " + what);
            }
            if (idx.first() != 0 || idx.last() != idx.size() - 1) {
                int missing = 0;
                while (idx.contains(missing)) {
                    missing++;
                }
                throw new ModelFormatException(file, prefix + missing + ".*", "missing: " + what + " indices found "
                        + idx + " are not contiguous from 0");
            }
            return idx.size();
        }
    }

    private static UnetConfig inferUnet(Shapes s, Map<String, String> metadata) {
        String u = Sd1Component.UNET.prefix();
        TensorInfo convIn = s.require(u + "input_blocks.0.0.weight", 4);
        int c0 = (int) convIn.dim(0);
        int inCh = (int) convIn.dim(1);
        int outCh = s.dim(u + "out.2.weight", 4, 0);

        // Walk input_blocks.1.. : each is a ResBlock (in_layers.2) or a downsample (op); downsamples close a level.
        List<List<Integer>> levelBlocks = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        List<Integer> levelFirstIdx = new ArrayList<>();
        int blockCount = s.count(u + "input_blocks.", "U-Net input block");
        for (int i = 1; i < blockCount; i++) {
            String p = u + "input_blocks." + i + ".0.";
            if (s.tensors.containsKey(p + "op.weight")) {
                if (current.isEmpty()) {
                    throw new ModelFormatException(s.file, p + "op.weight", "a downsample with no ResBlock before it in its level");
                }
                levelBlocks.add(current);
                current = new ArrayList<>();
            } else if (s.tensors.containsKey(p + "in_layers.2.weight")) {
                if (current.isEmpty()) {
                    levelFirstIdx.add(i);
                }
                current.add(i);
            } else {
                throw new ModelFormatException(s.file, p + "in_layers.2.weight",
                        "missing: input_blocks." + i + " is neither a ResBlock (in_layers.2) nor a downsample (op)");
            }
        }
        if (current.isEmpty()) {
            throw new ModelFormatException(s.file, u + "input_blocks." + (blockCount - 1) + ".0.op.weight",
                    "the U-Net input blocks end with a downsample; the last level needs ResBlocks");
        }
        levelBlocks.add(current);
        int numRes = levelBlocks.getFirst().size();
        List<Integer> mult = new ArrayList<>();
        List<Boolean> attn = new ArrayList<>();
        String firstAttn = null;
        for (int level = 0; level < levelBlocks.size(); level++) {
            List<Integer> blocks = levelBlocks.get(level);
            if (blocks.size() != numRes) {
                throw new ModelFormatException(s.file, u + "input_blocks." + blocks.getFirst() + ".0.in_layers.2.weight",
                        "level " + level + " has " + blocks.size() + " ResBlocks but level 0 has " + numRes);
            }
            int first = levelFirstIdx.get(level);
            String conv = u + "input_blocks." + first + ".0.in_layers.2.weight";
            int width = s.dim(conv, 4, 0);
            if (width % c0 != 0) {
                throw new ModelFormatException(s.file, conv, "output width " + width
                        + " is not a multiple of the model channels " + c0);
            }
            mult.add(width / c0);
            boolean hasAttn = s.tensors.containsKey(u + "input_blocks." + first + ".1.norm.weight");
            attn.add(hasAttn);
            if (hasAttn && firstAttn == null) {
                firstAttn = u + "input_blocks." + first + ".1.";
            }
        }
        if (firstAttn == null) {
            firstAttn = u + "middle_block.1.";
        }
        int depth = s.count(firstAttn + "transformer_blocks.", "transformer block");
        int context = s.dim(firstAttn + "transformer_blocks.0.attn2.to_k.weight", 2, 1);
        int heads = UnetConfig.SD1_NUM_HEADS;
        String h = metadata.get(HEADS_METADATA_KEY);
        if (h != null) {
            try {
                heads = Integer.parseInt(h.trim());
            } catch (NumberFormatException e) {
                throw new ModelFormatException(s.file, "__metadata__ " + HEADS_METADATA_KEY + " is not an integer: '" + h + "'");
            }
        }
        try {
            return new UnetConfig(inCh, outCh, c0, mult, numRes, attn, depth, context, heads);
        } catch (io.sdj.InvalidParameterException e) {
            throw new ModelFormatException(s.file, null, "inferred U-Net configuration is invalid: " + e.getMessage(), e);
        }
    }

    private static ClipTextConfig inferClip(Shapes s) {
        String c = Sd1Component.CLIP.prefix();
        TensorInfo tok = s.require(c + "embeddings.token_embedding.weight", 2);
        int vocab = (int) tok.dim(0);
        int hidden = (int) tok.dim(1);
        int positions = s.dim(c + "embeddings.position_embedding.weight", 2, 0);
        int layers = s.count(c + "encoder.layers.", "CLIP encoder layer");
        int intermediate = s.dim(c + "encoder.layers.0.mlp.fc1.weight", 2, 0);
        return new ClipTextConfig(hidden, layers, ClipTextConfig.headsFor(hidden), intermediate, vocab, positions);
    }

    private static VaeConfig inferVae(Shapes s) {
        String v = Sd1Component.VAE.prefix();
        TensorInfo convIn = s.require(v + "encoder.conv_in.weight", 4);
        int ch = (int) convIn.dim(0);
        int imageCh = (int) convIn.dim(1);
        int levels = s.count(v + "encoder.down.", "VAE encoder level");
        int numRes = s.count(v + "encoder.down.0.block.", "VAE encoder ResnetBlock");
        List<Integer> mult = new ArrayList<>();
        for (int level = 0; level < levels; level++) {
            String conv = v + "encoder.down." + level + ".block.0.conv1.weight";
            int width = s.dim(conv, 4, 0);
            if (width % ch != 0) {
                throw new ModelFormatException(s.file, conv, "output width " + width + " is not a multiple of the VAE base width " + ch);
            }
            mult.add(width / ch);
        }
        int z = s.dim(v + "decoder.conv_in.weight", 4, 1);
        int embed = s.dim(v + "post_quant_conv.weight", 4, 1);
        return new VaeConfig(imageCh, ch, mult, numRes, z, embed);
    }

    // ------------------------------------------------------------------------------------------ validation

    /**
     * What {@link #validate} found besides the required tensors.
     *
     * @param ignored tensors under a component prefix that the configuration does not use (logged as a warning)
     */
    public record Validation(List<String> ignored) {
        public Validation {
            ignored = List.copyOf(ignored);
        }
    }

    /** {@link #validate(Path, Map, Sd1Config)} for an open file. */
    public static Validation validate(SafetensorsFile file, Sd1Config config) {
        return validate(file.path(), file.tensors(), config);
    }

    /**
     * Checks that every tensor the configuration needs is present with the expected shape and a weight dtype
     * (F32/F16/BF16), and that the optional {@link #POSITION_IDS} and {@link #ALPHAS_CUMPROD} have their shapes.
     *
     * @throws ModelFormatException naming the first offending tensor, with expected versus found shapes for up to
     *                              {@value #MAX_LISTED} problems
     */
    public static Validation validate(Path file, Map<String, TensorInfo> tensors, Sd1Config config) {
        Map<String, long[]> expected = expectedTensors(config);
        List<String> problems = new ArrayList<>();
        String firstTensor = null;
        int count = 0;
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String problem = check(tensors.get(e.getKey()), e.getValue());
            if (problem != null) {
                if (firstTensor == null) {
                    firstTensor = e.getKey();
                }
                count++;
                if (problems.size() < MAX_LISTED) {
                    problems.add("'" + e.getKey() + "' " + problem);
                }
            }
        }
        TensorInfo pos = tensors.get(POSITION_IDS);
        if (pos != null && !pos.hasShape(1, config.clip().maxPositions())
                && !pos.hasShape(config.clip().maxPositions())) {
            count++;
            firstTensor = firstTensor == null ? POSITION_IDS : firstTensor;
            problems.add("'" + POSITION_IDS + "' expected shape [1, " + config.clip().maxPositions() + "], found "
                    + pos.shapeString());
        }
        TensorInfo ac = tensors.get(ALPHAS_CUMPROD);
        if (ac != null && (!ac.dtype().isWeightType() || ac.elementCount() != 1000 || ac.rank() != 1)) {
            count++;
            firstTensor = firstTensor == null ? ALPHAS_CUMPROD : firstTensor;
            problems.add("'" + ALPHAS_CUMPROD + "' expected an F32/F16/BF16 tensor of shape [1000], found "
                    + ac.dtype() + " " + ac.shapeString());
        }
        if (count > 0) {
            String detail;
            if (count == 1) {
                String p = problems.getFirst();
                detail = p.substring(p.indexOf("' ") + 2) + " (SD 1.x layout " + describe(config) + ")";
            } else {
                detail = count + " tensors do not match the SD 1.x layout " + describe(config) + ": "
                        + String.join("; ", problems) + (count > problems.size() ? "; ..." : "");
            }
            throw new ModelFormatException(file, firstTensor, detail);
        }
        List<String> ignored = new ArrayList<>();
        for (String name : tensors.keySet()) {
            boolean owned = false;
            for (Sd1Component c : Sd1Component.values()) {
                owned |= c.owns(name);
            }
            if (owned && !expected.containsKey(name) && !name.equals(POSITION_IDS)) {
                ignored.add(name);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("{}: {} tensors are not part of the SD 1.x layout and are ignored, e.g. {}", file, ignored.size(),
                    ignored.subList(0, Math.min(5, ignored.size())));
        }
        return new Validation(ignored);
    }

    private static String check(TensorInfo t, long[] shape) {
        if (t == null) {
            return "missing (expected shape " + TensorInfo.formatShape(shape) + ")";
        }
        if (!t.hasShape(shape)) {
            return "expected shape " + TensorInfo.formatShape(shape) + ", found " + t.shapeString();
        }
        if (!t.dtype().isWeightType()) {
            return "has dtype " + t.dtype() + ", expected F32, F16 or BF16";
        }
        return null;
    }

    /** A one-line summary of a configuration for messages and logs. */
    public static String describe(Sd1Config c) {
        UnetConfig u = c.unet();
        ClipTextConfig t = c.clip();
        VaeConfig v = c.vae();
        return "(unet: channels " + u.modelChannels() + ", mult " + u.channelMult() + ", res blocks "
                + u.numResBlocks() + ", attention " + u.attentionLevels() + ", depth " + u.transformerDepth()
                + ", context " + u.contextDim() + ", heads " + u.numHeads() + ", in/out " + u.inChannels() + "/"
                + u.outChannels() + "; clip: hidden " + t.hiddenSize() + ", layers " + t.numLayers() + ", heads "
                + t.numHeads() + ", mlp " + t.intermediateSize() + ", vocab " + t.vocabSize() + ", positions "
                + t.maxPositions() + "; vae: ch " + v.ch() + ", mult " + v.chMult() + ", res blocks "
                + v.numResBlocks() + ", z " + v.zChannels() + ", embed " + v.embedDim() + ")";
    }
}
