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
 * The original LDM single-file tensor layout that SD 1.x, SD 2.x and SDXL checkpoints share: which tensors a
 * configuration needs and with what shapes ({@link #expectedTensors}), how each part's configuration is read back
 * from a file's shapes ({@link #inferUnet}, {@link #inferVae}, {@link #inferClip}), and the check that a file has
 * exactly what its configuration needs ({@link #validate}). Families ({@code io.sdj.family}) decide which parts a
 * checkpoint has under which prefixes.
 *
 * <p>Shapes are written outermost first, as in the file: conv weights {@code [out, in, k, k]}, linear weights
 * {@code [out, in]}, norms and biases {@code [c]}.
 */
public final class LdmLayout {
    private static final Logger LOG = LoggerFactory.getLogger(LdmLayout.class);

    /** The optional DDPM schedule buffer sd.cpp reads (F16 [1000] in SD 1.x/2.x files). */
    public static final String ALPHAS_CUMPROD = "alphas_cumprod";

    /** Metadata key sdj's test models use for a U-Net head count other than the family's (real files lack it). */
    public static final String HEADS_METADATA_KEY = "sdj.unet.num_heads";

    /** How many problems a validation error lists before it stops. */
    private static final int MAX_LISTED = 12;

    private LdmLayout() {
    }

    // ------------------------------------------------------------------------------------------ expected layout

    /** Every parameter tensor of the configuration, text encoders then U-Net then VAE, with its shape. */
    public static Map<String, long[]> expectedTensors(ModelConfig config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        config.textEncoders().forEach((c, t) -> out.putAll(clipTensors(c.prefix(), t)));
        out.putAll(unetTensors(Component.UNET.prefix(), config.unet()));
        out.putAll(vaeTensors(Component.VAE.prefix(), config.vae()));
        return out;
    }

    /** The parameter tensors of one component of {@code config}, in module order, full names. */
    public static Map<String, long[]> expectedTensors(Component component, ModelConfig config) {
        if (component.equals(Component.UNET)) {
            return unetTensors(component.prefix(), config.unet());
        }
        if (component.equals(Component.VAE)) {
            return vaeTensors(component.prefix(), config.vae());
        }
        return clipTensors(component.prefix(), config.textEncoder(component));
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

        Map<String, long[]> build() {
            return Collections.unmodifiableMap(map);
        }
    }

    /** The U-Net's tensors under {@code prefix}. */
    public static Map<String, long[]> unetTensors(String prefix, UnetConfig u) {
        Builder b = new Builder(prefix);
        int c0 = u.modelChannels();
        int temb = u.timeEmbedDim();
        b.linear("time_embed.0", temb, c0, true);
        b.linear("time_embed.2", temb, temb, true);
        if (u.admInChannels() > 0) {
            b.linear("label_emb.0.0", temb, u.admInChannels(), true);
            b.linear("label_emb.0.2", temb, temb, true);
        }
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
                if (u.hasAttention(level)) {
                    transformer(b, "input_blocks." + idx + ".1", ch, u.transformerDepth().get(level), u);
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
        transformer(b, "middle_block.1", ch, u.middleDepth(), u);
        resBlock(b, "middle_block.2", ch, ch, temb);
        idx = 0;
        for (int level = u.levels() - 1; level >= 0; level--) {
            int out = u.channels(level);
            for (int i = 0; i <= u.numResBlocks(); i++) {
                int skip = skips.removeLast();
                resBlock(b, "output_blocks." + idx + ".0", ch + skip, out, temb);
                ch = out;
                int sub = 1;
                if (u.hasAttention(level)) {
                    transformer(b, "output_blocks." + idx + ".1", ch, u.transformerDepth().get(level), u);
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
        return b.build();
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

    private static void transformer(Builder b, String p, int ch, int depth, UnetConfig u) {
        b.norm(p + ".norm", ch);
        projection(b, p + ".proj_in", ch, u.linearProjection());
        for (int d = 0; d < depth; d++) {
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
        projection(b, p + ".proj_out", ch, u.linearProjection());
    }

    private static void projection(Builder b, String p, int ch, boolean linear) {
        if (linear) {
            b.linear(p, ch, ch, true);
        } else {
            b.conv(p, ch, ch, 1);
        }
    }

    /** The KL VAE's tensors under {@code prefix}. */
    public static Map<String, long[]> vaeTensors(String prefix, VaeConfig v) {
        Builder b = new Builder(prefix);
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
        return b.build();
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

    /** A text encoder's tensors under {@code prefix}, in its flavour's naming. */
    public static Map<String, long[]> clipTensors(String prefix, ClipTextConfig c) {
        Builder b = new Builder(prefix);
        int h = c.hiddenSize();
        if (c.flavor() == ClipTextConfig.Flavor.OPENAI) {
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
        } else {
            b.put("token_embedding.weight", c.vocabSize(), h);
            b.put("positional_embedding", c.maxPositions(), h);
            for (int i = 0; i < c.numLayers(); i++) {
                String l = "transformer.resblocks." + i;
                b.norm(l + ".ln_1", h);
                b.put(l + ".attn.in_proj_weight", 3L * h, h);
                b.put(l + ".attn.in_proj_bias", 3L * h);
                b.linear(l + ".attn.out_proj", h, h, true);
                b.norm(l + ".ln_2", h);
                b.linear(l + ".mlp.c_fc", c.intermediateSize(), h, true);
                b.linear(l + ".mlp.c_proj", h, c.intermediateSize(), true);
            }
            b.norm("ln_final", h);
            b.put("text_projection", h, c.projectionDim() > 0 ? c.projectionDim() : h);
        }
        return b.build();
    }

    // ------------------------------------------------------------------------------------------ inference

    /**
     * Shape look-ups over a file's tensors for inference: each one checks rank and that every dimension is a
     * positive int, so what it returns can be used in arithmetic without overflow.
     */
    public record Shapes(Path file, Map<String, TensorInfo> tensors) {
        public TensorInfo require(String name, int rank) {
            TensorInfo t = tensors.get(name);
            if (t == null) {
                throw new ModelFormatException(file, name, "missing; it is needed to infer the model configuration");
            }
            if (t.rank() != rank) {
                throw new ModelFormatException(file, name, "expected " + rank + " dimensions, found shape " + t.shapeString());
            }
            for (long d : t.shape()) {
                if (d <= 0 || d > UnetConfig.MAX_WIDTH * 64L) {
                    throw new ModelFormatException(file, name, "has an impossible dimension in shape " + t.shapeString());
                }
            }
            return t;
        }

        public int dim(String name, int rank, int dim) {
            return (int) require(name, rank).dim(dim);
        }

        public boolean has(String name) {
            return tensors.containsKey(name);
        }

        public boolean hasPrefix(String prefix) {
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

        /**
         * Count of a contiguous index range 0..n-1 under prefix; a gap, or more than {@code max}, is a format error
         * (a crafted file must not make sdj build an unbounded graph).
         */
        public int count(String prefix, String what, int max) {
            TreeSet<Integer> idx = indices(prefix);
            if (idx.isEmpty()) {
                throw new ModelFormatException(file, prefix + "0.*", "missing; expected at least one " + what);
            }
            if (idx.size() > max || idx.last() >= max) {
                throw new ModelFormatException(file, prefix + idx.last() + ".*", "has " + (idx.last() + 1) + " "
                        + what + "s; at most " + max + " are accepted");
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

    /**
     * Reads a U-Net's configuration from its shapes under {@code prefix}. The head rule (a fixed count or a fixed
     * width) is not visible in the weights and comes from the family; {@link #HEADS_METADATA_KEY} in the metadata
     * overrides it with a fixed count.
     */
    public static UnetConfig inferUnet(Shapes s, String u, Map<String, String> metadata, int familyHeads,
                                       int familyHeadDim) {
        TensorInfo convIn = s.require(u + "input_blocks.0.0.weight", 4);
        int c0 = (int) convIn.dim(0);
        int inCh = (int) convIn.dim(1);
        int outCh = s.dim(u + "out.2.weight", 4, 0);

        // Walk input_blocks.1.. : each is a ResBlock (in_layers.2) or a downsample (op); downsamples close a level.
        List<List<Integer>> levelBlocks = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        List<Integer> levelFirstIdx = new ArrayList<>();
        int blockCount = s.count(u + "input_blocks.", "U-Net input block", UnetConfig.MAX_LEVELS * (UnetConfig.MAX_DEPTH + 1));
        for (int i = 1; i < blockCount; i++) {
            String p = u + "input_blocks." + i + ".0.";
            if (s.has(p + "op.weight")) {
                if (current.isEmpty()) {
                    throw new ModelFormatException(s.file(), p + "op.weight", "a downsample with no ResBlock before it in its level");
                }
                levelBlocks.add(current);
                current = new ArrayList<>();
            } else if (s.has(p + "in_layers.2.weight")) {
                if (current.isEmpty()) {
                    levelFirstIdx.add(i);
                }
                current.add(i);
            } else {
                throw new ModelFormatException(s.file(), p + "in_layers.2.weight",
                        "missing: input_blocks." + i + " is neither a ResBlock (in_layers.2) nor a downsample (op)");
            }
        }
        if (current.isEmpty()) {
            throw new ModelFormatException(s.file(), u + "input_blocks." + (blockCount - 1) + ".0.op.weight",
                    "the U-Net input blocks end with a downsample; the last level needs ResBlocks");
        }
        levelBlocks.add(current);
        if (levelBlocks.size() > UnetConfig.MAX_LEVELS) {
            throw new ModelFormatException(s.file(), u + "input_blocks.*", "has " + levelBlocks.size()
                    + " resolution levels; at most " + UnetConfig.MAX_LEVELS + " are accepted");
        }
        int numRes = levelBlocks.getFirst().size();
        List<Integer> mult = new ArrayList<>();
        List<Integer> depth = new ArrayList<>();
        String firstAttn = null;
        for (int level = 0; level < levelBlocks.size(); level++) {
            List<Integer> blocks = levelBlocks.get(level);
            if (blocks.size() != numRes) {
                throw new ModelFormatException(s.file(), u + "input_blocks." + blocks.getFirst() + ".0.in_layers.2.weight",
                        "level " + level + " has " + blocks.size() + " ResBlocks but level 0 has " + numRes);
            }
            int first = levelFirstIdx.get(level);
            String conv = u + "input_blocks." + first + ".0.in_layers.2.weight";
            int width = s.dim(conv, 4, 0);
            if (width % c0 != 0) {
                throw new ModelFormatException(s.file(), conv, "output width " + width
                        + " is not a multiple of the model channels " + c0);
            }
            mult.add(width / c0);
            String attn = u + "input_blocks." + first + ".1.";
            if (s.has(attn + "norm.weight")) {
                depth.add(s.count(attn + "transformer_blocks.", "transformer block", UnetConfig.MAX_DEPTH));
                if (firstAttn == null) {
                    firstAttn = attn;
                }
            } else {
                depth.add(0);
            }
        }
        String mid = u + "middle_block.1.";
        if (!s.has(mid + "norm.weight")) {
            throw new ModelFormatException(s.file(), mid + "norm.weight", "missing: the U-Net has no middle-block "
                    + "transformer (a distilled U-Net such as SSD-1B or Vega?); sdj runs U-Nets with one");
        }
        int middleDepth = s.count(mid + "transformer_blocks.", "transformer block", UnetConfig.MAX_DEPTH);
        if (firstAttn == null) {
            firstAttn = mid;
        }
        int context = s.dim(firstAttn + "transformer_blocks.0.attn2.to_k.weight", 2, 1);
        TensorInfo projIn = s.tensors().get(firstAttn + "proj_in.weight");
        boolean linear = s.require(firstAttn + "proj_in.weight", projIn != null && projIn.rank() == 2 ? 2 : 4).rank() == 2;
        int adm = s.has(u + "label_emb.0.0.weight") ? s.dim(u + "label_emb.0.0.weight", 2, 1) : 0;
        int heads = familyHeads;
        int headDim = familyHeadDim;
        String h = metadata.get(HEADS_METADATA_KEY);
        if (h != null) {
            try {
                heads = Integer.parseInt(h.trim());
                headDim = 0;
            } catch (NumberFormatException e) {
                throw new ModelFormatException(s.file(), "__metadata__ " + HEADS_METADATA_KEY + " is not an integer: '" + h + "'");
            }
        }
        try {
            return new UnetConfig(inCh, outCh, c0, mult, numRes, depth, middleDepth, context, heads, headDim, linear, adm);
        } catch (io.sdj.InvalidParameterException e) {
            throw new ModelFormatException(s.file(), null, "inferred U-Net configuration is invalid: " + e.getMessage(), e);
        }
    }

    /** Reads a text encoder's configuration from its shapes under {@code prefix}, in the given naming. */
    public static ClipTextConfig inferClip(Shapes s, String c, ClipTextConfig.Flavor flavor) {
        boolean openai = flavor == ClipTextConfig.Flavor.OPENAI;
        TensorInfo tok = s.require(c + (openai ? "embeddings.token_embedding.weight" : "token_embedding.weight"), 2);
        int vocab = (int) tok.dim(0);
        int hidden = (int) tok.dim(1);
        int positions = openai ? s.dim(c + "embeddings.position_embedding.weight", 2, 0)
                : s.dim(c + "positional_embedding", 2, 0);
        String layers = openai ? "encoder.layers." : "transformer.resblocks.";
        int n = s.count(c + layers, "text encoder layer", ClipTextConfig.MAX_LAYERS);
        int intermediate = openai ? s.dim(c + "encoder.layers.0.mlp.fc1.weight", 2, 0)
                : s.dim(c + "transformer.resblocks.0.mlp.c_fc.weight", 2, 0);
        int projection = !openai && s.has(c + "text_projection") ? s.dim(c + "text_projection", 2, 1) : 0;
        try {
            return new ClipTextConfig(flavor, hidden, n, ClipTextConfig.headsFor(hidden), intermediate, vocab, positions,
                    projection);
        } catch (io.sdj.InvalidParameterException e) {
            throw new ModelFormatException(s.file(), null, "inferred text encoder configuration under '" + c
                    + "' is invalid: " + e.getMessage(), e);
        }
    }

    /** Reads the VAE's configuration from its shapes under {@code prefix}. */
    public static VaeConfig inferVae(Shapes s, String v) {
        TensorInfo convIn = s.require(v + "encoder.conv_in.weight", 4);
        int ch = (int) convIn.dim(0);
        int imageCh = (int) convIn.dim(1);
        int levels = s.count(v + "encoder.down.", "VAE encoder level", UnetConfig.MAX_LEVELS);
        int numRes = s.count(v + "encoder.down.0.block.", "VAE encoder ResnetBlock", UnetConfig.MAX_DEPTH);
        List<Integer> mult = new ArrayList<>();
        for (int level = 0; level < levels; level++) {
            String conv = v + "encoder.down." + level + ".block.0.conv1.weight";
            int width = s.dim(conv, 4, 0);
            if (width % ch != 0) {
                throw new ModelFormatException(s.file(), conv, "output width " + width + " is not a multiple of the VAE base width " + ch);
            }
            mult.add(width / ch);
        }
        int z = s.dim(v + "decoder.conv_in.weight", 4, 1);
        int embed = s.dim(v + "post_quant_conv.weight", 4, 1);
        try {
            return new VaeConfig(imageCh, ch, mult, numRes, z, embed);
        } catch (io.sdj.InvalidParameterException e) {
            throw new ModelFormatException(s.file(), null, "inferred VAE configuration is invalid: " + e.getMessage(), e);
        }
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

    /**
     * Checks that every tensor the configuration needs is present with the expected shape and a weight type, and
     * that {@link #ALPHAS_CUMPROD} (when present) has its shape. {@code optional} names tensors that may be there and
     * are not reported as ignored (position ids, logit scales).
     *
     * @throws ModelFormatException naming the first offending tensor, with expected versus found shapes for up to
     *                              {@value #MAX_LISTED} problems
     */
    public static Validation validate(Path file, Map<String, TensorInfo> tensors, ModelConfig config, String family,
                                      java.util.function.Predicate<String> optional) {
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
        TensorInfo ac = tensors.get(ALPHAS_CUMPROD);
        if (ac != null && (!isFloat(ac.dtype()) || ac.elementCount() != 1000 || ac.rank() != 1)) {
            count++;
            firstTensor = firstTensor == null ? ALPHAS_CUMPROD : firstTensor;
            problems.add("'" + ALPHAS_CUMPROD + "' expected an F32/F16/BF16 tensor of shape [1000], found "
                    + ac.dtype() + " " + ac.shapeString());
        }
        if (count > 0) {
            String detail;
            if (count == 1) {
                String p = problems.getFirst();
                detail = p.substring(p.indexOf("' ") + 2) + " (" + family + " layout " + config.describe() + ")";
            } else {
                detail = count + " tensors do not match the " + family + " layout " + config.describe() + ": "
                        + String.join("; ", problems) + (count > problems.size() ? "; ..." : "");
            }
            throw new ModelFormatException(file, firstTensor, detail);
        }
        List<String> ignored = new ArrayList<>();
        for (String name : tensors.keySet()) {
            boolean owned = false;
            for (Component c : config.components()) {
                owned |= c.owns(name);
            }
            if (owned && !expected.containsKey(name) && !optional.test(name)) {
                ignored.add(name);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("{}: {} tensors are not part of the {} layout and are ignored, e.g. {}", file, ignored.size(),
                    family, ignored.subList(0, Math.min(5, ignored.size())));
        }
        return new Validation(ignored);
    }

    /** True for the plain floating-point types (F32, F16, BF16). */
    public static boolean isFloat(DType t) {
        return t == DType.F32 || t == DType.F16 || t == DType.BF16;
    }

    private static String check(TensorInfo t, long[] shape) {
        if (t == null) {
            return "missing (expected shape " + TensorInfo.formatShape(shape) + ")";
        }
        if (!t.hasShape(shape)) {
            return "expected shape " + TensorInfo.formatShape(shape) + ", found " + t.shapeString();
        }
        if (!t.dtype().isWeightType() && !t.dtype().isQuantized()) {
            return "has dtype " + t.dtype() + ", expected a floating-point (F32, F16, BF16) or ggml-quantized weight type";
        }
        return null;
    }
}
