package io.sdj.runtime;

import io.sdj.ggml.ggml_h;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Builds a ggml compute graph: inputs and operations over them and over weights from {@link WeightStore}s. Shapes
 * follow ggml's order (innermost first). Operations check their operands' shapes in Java so that a mistake gives a
 * {@link GgmlException} instead of a native abort. {@link #compile} allocates the graph on a backend.
 */
public final class Graph extends GgmlContext {
    /** Default maximum number of nodes in one graph. */
    public static final int DEFAULT_SIZE = 16384;

    /** Tensor metadata an operation may add at most (ggml_conv_2d's im2col, product, reshapes and permute). */
    private static final int TENSORS_PER_OP = 16;

    private final int size;
    private final String label;
    private final long tensorBudget;
    private final long tensorBytes = tensorOverhead();
    private final Set<Long> foreign = new HashSet<>();
    private final boolean matrixConvolutions;
    /** The default of {@link #bandColumnBytes(long)}: 128 MiB of F32 columns per convolution band. */
    static final long DEFAULT_BAND_COLUMN_BYTES = 128L << 20;
    private long bandColumnBytes = DEFAULT_BAND_COLUMN_BYTES;

    /** A graph of up to {@link #DEFAULT_SIZE} nodes. */
    public Graph(String label) {
        this(label, DEFAULT_SIZE);
    }

    /**
     * A graph of up to {@link #DEFAULT_SIZE} nodes, built for {@code target}: on a CPU backend with a BLAS partner
     * its F16 convolutions are {@link #conv2dMatrix} products (im2col in F32, then the kernel as the left operand),
     * which the BLAS backend takes; ggml_conv_2d's product has the F16 kernel on the right, which it cannot. Run
     * on the CPU backend alone (a graph with quantized products, {@link CompiledGraph}), such a convolution gives
     * ggml_conv_2d's bits: each output is the same F16 dot product of a kernel row and an input column.
     */
    public Graph(String label, Backend target) {
        this(label, DEFAULT_SIZE, target.hasBlas());
    }

    /**
     * A graph with room for about {@code 2 × size} tensors (operations, views and inputs). Building past that
     * throws a {@link GgmlException} before ggml sees the operation (ggml would abort the process); the node list
     * is sized when the graph is compiled, so it never overflows.
     */
    public Graph(String label, int size) {
        this(label, size, false);
    }

    private Graph(String label, int size, boolean matrixConvolutions) {
        if (size < 1) {
            throw new GgmlException("graph size must be positive, got " + size);
        }
        super(tensorBudget(size));
        this.size = size;
        this.label = label;
        this.tensorBudget = tensorBudget(size);
        this.matrixConvolutions = matrixConvolutions;
    }

    private static long tensorBudget(int size) {
        return tensorOverhead() * (2L * size + 16);
    }

    static long graphOverhead(long size) {
        GgmlLibrary.load();
        return ggml_h.ggml_graph_overhead_custom(size, false);
    }

    /**
     * The context for a new operation: throws once the tensors so far leave less room than one more operation can
     * take, so that ggml's context never runs out of memory (an assertion that ends the process).
     */
    private MemorySegment opCtx() {
        MemorySegment c = ctx();
        long used = ggml_h.ggml_used_mem(c);
        if (used + TENSORS_PER_OP * tensorBytes > tensorBudget) {
            throw new GgmlException(describe() + " needs more than its " + (tensorBudget / tensorBytes)
                    + " tensors: the model has more layers than a graph of size " + size + " holds");
        }
        return c;
    }

    /** Tensors created in this graph's context so far (operations, views, inputs). */
    long tensorCount() {
        return ggml_h.ggml_used_mem(ctx()) / tensorBytes;
    }

    /**
     * An upper bound on nodes plus leafs of any graph built from this one: every tensor of this context and every
     * tensor of another owner (weights) an operation took.
     */
    long nodeBound() {
        return tensorCount() + foreign.size() + 1;
    }

    @Override
    public String describe() {
        return "graph '" + label + "'";
    }

    int size() {
        return size;
    }

    /**
     * The bytes of compute memory {@link #compile} would reserve on {@code backend} for these outputs, found with
     * ggml's allocator without allocating anything.
     */
    public long measureComputeBytes(Backend backend, Tensor... outputs) {
        return CompiledGraph.measure(this, backend, outputs);
    }

    /** Allocates this graph's tensors on {@code backend}; computing then needs only the inputs set. */
    public CompiledGraph compile(Backend backend, Tensor... outputs) {
        return new CompiledGraph(this, backend, outputs);
    }

    // --- inputs -----------------------------------------------------------------------------------------------------

    /** A graph input; set its data after {@link #compile}. */
    public Tensor input(String name, GgmlType type, long... ne) {
        opCtx();
        Tensor t = newTensor(type, ne).name(name);
        ggml_h.ggml_set_input(t.ptr());
        return t;
    }

    private Tensor wrap(MemorySegment p) {
        return new Tensor(p, this);
    }

    /** The tensor's pointer; throws if its owner (this graph or a weight store) was closed. */
    private MemorySegment own(Tensor t) {
        MemorySegment p = t.ptr();
        if (t.owner() != this) {
            foreign.add(p.address());
        }
        return p;
    }

    // --- element-wise -------------------------------------------------------------------------------------------

    /** a + b, with b repeated over a's shape where it is smaller. */
    public Tensor add(Tensor a, Tensor b) {
        requireRepeatable("add", b, a);
        return wrap(ggml_h.ggml_add(opCtx(), own(a), own(b)));
    }

    /** a - b, with b repeated over a's shape. */
    public Tensor sub(Tensor a, Tensor b) {
        requireRepeatable("sub", b, a);
        return wrap(ggml_h.ggml_sub(opCtx(), own(a), own(b)));
    }

    /** a * b element-wise, with b repeated over a's shape. */
    public Tensor mul(Tensor a, Tensor b) {
        requireRepeatable("mul", b, a);
        return wrap(ggml_h.ggml_mul(opCtx(), own(a), own(b)));
    }

    /** a / b element-wise, with b repeated over a's shape. */
    public Tensor div(Tensor a, Tensor b) {
        requireRepeatable("div", b, a);
        return wrap(ggml_h.ggml_div(opCtx(), own(a), own(b)));
    }

    public Tensor scale(Tensor a, float s) {
        return wrap(ggml_h.ggml_scale(opCtx(), own(a), s));
    }

    public Tensor silu(Tensor a) {
        return wrap(ggml_h.ggml_silu(opCtx(), own(a)));
    }

    /** GELU, tanh approximation (ggml_gelu). */
    public Tensor gelu(Tensor a) {
        return wrap(ggml_h.ggml_gelu(opCtx(), own(a)));
    }

    /** GELU with the exact erf form. */
    public Tensor geluErf(Tensor a) {
        return wrap(ggml_h.ggml_gelu_erf(opCtx(), own(a)));
    }

    /** x * sigmoid(1.702 x), CLIP's quick GELU. */
    public Tensor geluQuick(Tensor a) {
        return wrap(ggml_h.ggml_gelu_quick(opCtx(), own(a)));
    }

    public Tensor sigmoid(Tensor a) {
        return wrap(ggml_h.ggml_sigmoid(opCtx(), own(a)));
    }

    public Tensor relu(Tensor a) {
        return wrap(ggml_h.ggml_relu(ctx(), own(a)));
    }

    public Tensor tanh(Tensor a) {
        return wrap(ggml_h.ggml_tanh(opCtx(), own(a)));
    }

    public Tensor clamp(Tensor a, float min, float max) {
        return wrap(ggml_h.ggml_clamp(opCtx(), own(a), min, max));
    }

    // --- matrix products and normalisation ---------------------------------------------------------------------

    /**
     * ggml_mul_mat: for a of shape [k, m, ...] and b of shape [k, n, ...] gives [m, n, ...] (each row of a dotted
     * with each row of b); a's outer dimensions must divide b's.
     */
    public Tensor mulMat(Tensor a, Tensor b) {
        long[] x = a.ne();
        long[] y = b.ne();
        if (x[0] != y[0] || y[2] % x[2] != 0 || y[3] % x[3] != 0) {
            throw new GgmlException("mul_mat: shapes " + Arrays.toString(x) + " (" + a.name() + ") and "
                    + Arrays.toString(y) + " (" + b.name() + ") do not fit: ne0 must match and a's ne2/ne3 must divide b's");
        }
        return wrap(ggml_h.ggml_mul_mat(opCtx(), own(a), own(b)));
    }

    /** Softmax over the innermost dimension. */
    public Tensor softMax(Tensor a) {
        return wrap(ggml_h.ggml_soft_max(opCtx(), own(a)));
    }

    /** softmax(a * scale + mask) over the innermost dimension; mask may be null. */
    public Tensor softMaxExt(Tensor a, Tensor mask, float scale, float maxBias) {
        return wrap(ggml_h.ggml_soft_max_ext(opCtx(), own(a), mask == null ? MemorySegment.NULL : own(mask), scale, maxBias));
    }

    /** Sets everything above the diagonal (column > row + nPast) to -inf. */
    public Tensor diagMaskInf(Tensor a, int nPast) {
        return wrap(ggml_h.ggml_diag_mask_inf(opCtx(), own(a), nPast));
    }

    /** Normalises over the innermost dimension (no scale/shift). */
    public Tensor norm(Tensor a, float eps) {
        return wrap(ggml_h.ggml_norm(opCtx(), own(a), eps));
    }

    /** Group norm over [W, H, C/groups] slices of a [W, H, C, N] tensor (no scale/shift). */
    public Tensor groupNorm(Tensor a, int groups, float eps) {
        if (a.ne(2) % groups != 0) {
            throw new GgmlException("group_norm: " + a.ne(2) + " channels of " + a.name() + " are not divisible into "
                    + groups + " groups");
        }
        return wrap(ggml_h.ggml_group_norm(opCtx(), own(a), groups, eps));
    }

    // --- convolution and resampling ---------------------------------------------------------------------------

    /**
     * 2-D convolution (ggml_conv_2d: im2col in the kernel's type, then a matrix product). Kernel [KW, KH, IC, OC],
     * input [W, H, IC, N]. In a graph built for a BLAS partner an F16 kernel is used as a [KW·KH·IC, OC] matrix
     * ({@link #conv2dMatrix}) instead: the same products, with the input unrounded (F32 rather than F16 columns).
     */
    public Tensor conv2d(Tensor kernel, Tensor input, int stride0, int stride1, int pad0, int pad1, int dil0, int dil1) {
        if (kernel.ne(2) != input.ne(2)) {
            throw new GgmlException("conv2d: kernel " + kernel.name() + " " + Arrays.toString(kernel.ne()) + " expects "
                    + kernel.ne(2) + " input channels, input " + input.name() + " " + Arrays.toString(input.ne())
                    + " has " + input.ne(2));
        }
        requireConvOutput(kernel, input, stride0, stride1, pad0, pad1, dil0, dil1);
        if (matrixConvolutions && kernel.type() == GgmlType.F16 && ggml_h.ggml_is_contiguous(kernel.ptr())) {
            Tensor matrix = wrap(ggml_h.ggml_reshape_2d(opCtx(), own(kernel),
                    kernel.ne(0) * kernel.ne(1) * kernel.ne(2), kernel.ne(3)));
            return conv2dMatrix(matrix, (int) kernel.ne(0), (int) kernel.ne(1), input, stride0, stride1, pad0, pad1,
                    dil0, dil1);
        }
        return wrap(ggml_h.ggml_conv_2d(opCtx(), own(kernel), own(input), stride0, stride1, pad0, pad1, dil0, dil1));
    }

    /** ggml asserts when a kernel does not fit the padded input; say so in Java instead. */
    /** The padded input extent a kernel of size {@code k} sweeps past its first position (negative: it does not fit). */
    private static long convSpan(long in, long k, int pad, int dil) {
        return in + 2L * pad - (long) dil * (k - 1) - 1;
    }

    private static void requireConvOutput(Tensor kernel, Tensor input, int s0, int s1, int p0, int p1, int d0, int d1) {
        requireConvOutput(kernel, kernel.ne(0), kernel.ne(1), input, s0, s1, p0, p1, d0, d1);
    }

    private static void requireConvOutput(Tensor kernel, long kw, long kh, Tensor input, int s0, int s1, int p0, int p1,
                                          int d0, int d1) {
        if (s0 < 1 || s1 < 1 || d0 < 1 || d1 < 1 || p0 < 0 || p1 < 0) {
            throw new GgmlException("conv2d: strides and dilations must be positive and paddings non-negative, got"
                    + " stride " + s0 + "x" + s1 + ", padding " + p0 + "x" + p1 + ", dilation " + d0 + "x" + d1);
        }
        long w = convSpan(input.ne(0), kw, p0, d0);
        long h = convSpan(input.ne(1), kh, p1, d1);
        if (kw < 1 || kh < 1 || w < 0 || h < 0) {
            throw new GgmlException("conv2d: kernel " + kernel.name() + " (" + kw + "x" + kh + ") "
                    + Arrays.toString(kernel.ne()) + " does not fit input " + input.name() + " "
                    + Arrays.toString(input.ne()) + " with padding " + p0 + "x" + p1);
        }
    }

    /**
     * 2-D convolution with the kernel stored as a matrix: {@code kernel} is [KW·KH·IC, OC] (a [KW, KH, IC, OC] kernel
     * with its first three dimensions flattened, so the same bytes), in any type ggml's matrix product takes,
     * quantized ones included. The input [W, H, IC, N] is unfolded (ggml_im2col, F32) to [KW·KH·IC, OW·OH·N], the
     * kernel multiplies it, and the product is laid out as conv2d's result [OW, OH, OC, N].
     */
    public Tensor conv2dMatrix(Tensor kernel, int kw, int kh, Tensor input, int stride0, int stride1, int pad0, int pad1,
                               int dil0, int dil1) {
        long ic = input.ne(2);
        if (kernel.ne(2) != 1 || kernel.ne(3) != 1 || kw < 1 || kh < 1 || kernel.ne(0) != (long) kw * kh * ic) {
            throw new GgmlException("conv2d: kernel matrix " + kernel.name() + " " + Arrays.toString(kernel.ne())
                    + " does not hold " + kw + "x" + kh + " kernels over the " + ic + " channels of input "
                    + input.name() + " " + Arrays.toString(input.ne()) + " (expected [" + ((long) kw * kh * ic)
                    + ", OC])");
        }
        requireConvOutput(kernel, kw, kh, input, stride0, stride1, pad0, pad1, dil0, dil1);
        opCtx();
        // ggml_im2col reads only the kernel's shape: a data-less [KW, KH, IC, 1] stands in for it
        Tensor shape = newTensor(GgmlType.F16, kw, kh, ic, 1).name(kernel.name() + ".shape");
        long ow = convSpan(input.ne(0), kw, pad0, dil0) / stride0 + 1;
        long oh = convSpan(input.ne(1), kh, pad1, dil1) / stride1 + 1;
        long rowColumnBytes = kernel.ne(0) * ow * input.ne(3) * Float.BYTES; // F32 columns of one output row
        // (a band must read at least one input row: no padding wider than the kernel's reach)
        if (matrixConvolutions && oh > 1 && input.type() == GgmlType.F32 && rowColumnBytes * oh > bandColumnBytes
                && pad1 <= (long) dil1 * (kh - 1)) {
            return conv2dInBands(kernel, shape, input, stride0, stride1, pad0, pad1, dil0, dil1, kh, oh,
                    Math.max(1, bandColumnBytes / rowColumnBytes));
        }
        return unfoldAndMultiply(kernel, shape, own(input), stride0, stride1, pad0, pad1, dil0, dil1);
    }

    /** im2col (F32) of {@code input}, the product with the kernel matrix, laid out as [OW, OH, OC, N]. */
    private Tensor unfoldAndMultiply(Tensor kernel, Tensor shape, MemorySegment input, int stride0, int stride1,
                                     int pad0, int pad1, int dil0, int dil1) {
        Tensor cols = wrap(ggml_h.ggml_im2col(opCtx(), own(shape), input, stride0, stride1, pad0, pad1, dil0,
                dil1, true, GgmlType.F32.id())); // [KW·KH·IC, OW, OH, N]
        long ow = cols.ne(1);
        long oh = cols.ne(2);
        long n = cols.ne(3);
        MemorySegment flat = ggml_h.ggml_reshape_2d(opCtx(), cols.ptr(), kernel.ne(0), ow * oh * n);
        MemorySegment product = ggml_h.ggml_mul_mat(opCtx(), own(kernel), flat); // [OC, OW·OH·N]
        MemorySegment grid = ggml_h.ggml_reshape_4d(opCtx(), product, kernel.ne(1), ow, oh, n);
        return wrap(ggml_h.ggml_cont(opCtx(), ggml_h.ggml_permute(opCtx(), grid, 2, 0, 1, 3)));
    }

    /**
     * A convolution whose F32 columns would exceed {@link #bandColumnBytes}, computed in bands of {@code rows}
     * output rows. Each band takes only the input rows it reads, zero-padded on the sides that are the image's
     * border (one ggml_pad_ext of a view: the whole input is never copied), unfolds them, and its rows are written
     * into one output tensor. Every output is the same dot product as unbanded; the allocator reuses one band's
     * columns for the next, so the columns never take more than about {@link #bandColumnBytes}. (The BLAS path's F32
     * columns are twice the size of ggml_conv_2d's F16 ones; without bands the SD 1.5 decode at 512² needed over
     * 3 GiB and fell back to the much slower direct convolution.)
     */
    private Tensor conv2dInBands(Tensor kernel, Tensor shape, Tensor input, int stride0, int stride1, int pad0,
                                 int pad1, int dil0, int dil1, int kh, long oh, long rows) {
        MemorySegment in = own(input);
        long h = input.ne(1);
        long reach = (long) dil1 * (kh - 1); // input rows one output row reads, less one
        // The first band is zero-padded to all oh rows and every later one is written over its rows in place
        // (ggml_set_inplace, a view of the same tensor): one output tensor, one copy of each band. ggml_concat would
        // make a new, longer tensor per band: with n bands about n/2 outputs' worth of copying and two outputs held
        // at once (37 bands in the top-level convolutions of SD 1.5's decode at 1024²). ggml_set keeps its strides
        // and offset in int32 parameters, so an output whose planes (or, for a batch, images) are larger than that is
        // joined with ggml_concat.
        MemorySegment out = null;
        boolean inPlace = false;
        for (long r0 = 0; r0 < oh; r0 += rows) {
            long r1 = Math.min(oh, r0 + rows);
            long top = r0 * stride1 - pad1; // first input row the band reads (negative: in the top padding)
            long bottom = (r1 - 1) * stride1 - pad1 + reach; // last one (h or more: in the bottom padding)
            long lo = Math.max(0, top);
            long hi = Math.min(h - 1, bottom);
            MemorySegment view = ggml_h.ggml_view_4d(opCtx(), in, input.ne(0), hi - lo + 1, input.ne(2),
                    input.ne(3), input.nb(1), input.nb(2), input.nb(3), lo * input.nb(1));
            MemorySegment rowsIn = pad0 == 0 && lo == top && hi == bottom ? ggml_h.ggml_cont(opCtx(), view)
                    : ggml_h.ggml_pad_ext(opCtx(), view, pad0, pad0, (int) (lo - top), (int) (bottom - hi),
                            0, 0, 0, 0);
            MemorySegment band = unfoldAndMultiply(kernel, shape, rowsIn, stride0, stride1, 0, 0, dil0, dil1).ptr();
            if (out == null) {
                Tensor b = wrap(band); // [OW, rows, OC, N]
                long plane = b.ne(0) * oh * Float.BYTES;
                inPlace = (b.ne(3) == 1 ? plane : plane * b.ne(2)) <= Integer.MAX_VALUE;
                out = inPlace && r1 < oh ? ggml_h.ggml_pad(opCtx(), band, 0, (int) (oh - r1), 0, 0) : band;
            } else if (inPlace) {
                Tensor o = wrap(out);
                long nb3 = o.ne(3) == 1 ? 0 : o.nb(3); // one image: the batch stride is never used
                out = ggml_h.ggml_set_inplace(opCtx(), out, band, o.nb(1), o.nb(2), nb3, r0 * o.nb(1));
            } else {
                out = ggml_h.ggml_concat(opCtx(), out, band, 1);
            }
        }
        return wrap(out);
    }

    /**
     * Sets the most bytes of F32 columns one convolution unfolds at once in a graph built for BLAS (default
     * {@link #DEFAULT_BAND_COLUMN_BYTES}); larger ones run in bands of output rows.
     */
    void bandColumnBytes(long bytes) {
        if (bytes < 1) {
            throw new GgmlException("band size must be positive, got " + bytes);
        }
        this.bandColumnBytes = bytes;
    }

    /** Direct 2-D convolution without im2col (ggml_conv_2d_direct). */
    public Tensor conv2dDirect(Tensor kernel, Tensor input, int stride0, int stride1, int pad0, int pad1, int dil0, int dil1) {
        if (kernel.ne(2) != input.ne(2)) {
            throw new GgmlException("conv2d: kernel expects " + kernel.ne(2) + " input channels, input has " + input.ne(2));
        }
        requireConvOutput(kernel, input, stride0, stride1, pad0, pad1, dil0, dil1);
        return wrap(ggml_h.ggml_conv_2d_direct(opCtx(), own(kernel), own(input), stride0, stride1, pad0, pad1, dil0, dil1));
    }

    /** Nearest-neighbour upscaling of the two innermost dimensions by an integer factor. */
    public Tensor upscaleNearest(Tensor a, int factor) {
        if (factor < 1) {
            throw new GgmlException("upscale: factor must be positive, got " + factor);
        }
        return wrap(ggml_h.ggml_upscale(opCtx(), own(a), factor, 0));
    }

    /** Zero padding at the end of each dimension. */
    public Tensor pad(Tensor a, int p0, int p1, int p2, int p3) {
        if (p0 < 0 || p1 < 0 || p2 < 0 || p3 < 0) {
            throw new GgmlException("pad: paddings must be non-negative, got " + p0 + ", " + p1 + ", " + p2 + ", " + p3);
        }
        return wrap(ggml_h.ggml_pad(opCtx(), own(a), p0, p1, p2, p3));
    }

    /** Sinusoidal timestep embedding of a 1-D F32 tensor of timesteps: [dim, n]. */
    public Tensor timestepEmbedding(Tensor timesteps, int dim, int maxPeriod) {
        return wrap(ggml_h.ggml_timestep_embedding(opCtx(), own(timesteps), dim, maxPeriod));
    }

    /** Rows of {@code a} picked by the I32 indices in {@code rows}. */
    public Tensor getRows(Tensor a, Tensor rows) {
        if (rows.type() != GgmlType.I32) {
            throw new GgmlException("get_rows: indices " + rows.name() + " must be I32, not " + rows.type());
        }
        return wrap(ggml_h.ggml_get_rows(opCtx(), own(a), own(rows)));
    }

    // --- shape -------------------------------------------------------------------------------------------------

    public Tensor concat(Tensor a, Tensor b, int dim) {
        long[] x = a.ne();
        long[] y = b.ne();
        for (int i = 0; i < 4; i++) {
            if (i != dim && x[i] != y[i]) {
                throw new GgmlException("concat along " + dim + ": " + Arrays.toString(x) + " and " + Arrays.toString(y)
                        + " differ in dimension " + i);
            }
        }
        if (a.type() != b.type()) {
            throw new GgmlException("concat: types differ (" + a.type() + ", " + b.type() + ")");
        }
        return wrap(ggml_h.ggml_concat(opCtx(), own(a), own(b), dim));
    }

    /** ggml_permute: source dimension i moves to position axis_i. */
    public Tensor permute(Tensor a, int axis0, int axis1, int axis2, int axis3) {
        int[] ax = {axis0, axis1, axis2, axis3};
        boolean[] seen = new boolean[4];
        for (int x : ax) {
            if (x < 0 || x > 3 || seen[x]) {
                throw new GgmlException("permute: axes must be a permutation of 0..3, got " + Arrays.toString(ax));
            }
            seen[x] = true;
        }
        return wrap(ggml_h.ggml_permute(opCtx(), own(a), axis0, axis1, axis2, axis3));
    }

    public Tensor transpose(Tensor a) {
        return wrap(ggml_h.ggml_transpose(opCtx(), own(a)));
    }

    /** A contiguous copy (needed after permute/transpose before reshape). */
    public Tensor cont(Tensor a) {
        return wrap(ggml_h.ggml_cont(opCtx(), own(a)));
    }

    /** Reshape to the given ggml shape (1 to 4 dims, same element count; the source must be contiguous). */
    public Tensor reshape(Tensor a, long... ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (n != a.elementCount()) {
            throw new GgmlException("reshape of " + a.name() + " " + Arrays.toString(a.ne()) + " to "
                    + Arrays.toString(ne) + ": element counts differ");
        }
        if (!a.isContiguous()) {
            throw new GgmlException("reshape of " + a.name() + " needs a contiguous tensor: insert cont() after permute/transpose");
        }
        MemorySegment p = own(a);
        return wrap(switch (ne.length) {
            case 1 -> ggml_h.ggml_reshape_1d(opCtx(), p, ne[0]);
            case 2 -> ggml_h.ggml_reshape_2d(opCtx(), p, ne[0], ne[1]);
            case 3 -> ggml_h.ggml_reshape_3d(opCtx(), p, ne[0], ne[1], ne[2]);
            case 4 -> ggml_h.ggml_reshape_4d(opCtx(), p, ne[0], ne[1], ne[2], ne[3]);
            default -> throw new GgmlException("reshape takes 1 to 4 dimensions, got " + ne.length);
        });
    }

    /** A strided view of {@code a}: shape ne (4 dims), byte strides nb1..nb3, starting at a byte offset. */
    public Tensor view(Tensor a, long ne0, long ne1, long ne2, long ne3, long nb1, long nb2, long nb3, long offset) {
        if (ne0 < 1 || ne1 < 1 || ne2 < 1 || ne3 < 1 || ne0 % a.type().blockSize() != 0) {
            throw new GgmlException("view of " + a.name() + ": shape [" + ne0 + ", " + ne1 + ", " + ne2 + ", " + ne3
                    + "] is not a whole number of " + a.type() + " blocks");
        }
        long rowEnd = a.type().rowBytes(ne0); // bytes of one row, blocks included
        long last = offset + rowEnd - 1 + (ne1 - 1) * nb1 + (ne2 - 1) * nb2 + (ne3 - 1) * nb3;
        if (offset < 0 || last >= a.byteSize()) {
            throw new GgmlException("view of " + a.name() + " reaches past its " + a.byteSize() + " bytes");
        }
        return wrap(ggml_h.ggml_view_4d(opCtx(), own(a), ne0, ne1, ne2, ne3, nb1, nb2, nb3, offset));
    }

    /** Converts to another type (e.g. F32 to F16). */
    public Tensor cast(Tensor a, GgmlType type) {
        return wrap(ggml_h.ggml_cast(opCtx(), own(a), type.id()));
    }

    /**
     * Fused attention (ggml_flash_attn_ext) with F32 accumulation: softmax(scale · qᵀk + mask) v per head, without
     * materialising the [Lk, Lq] score matrix. q [d, Lq, H, B] (F32); k [d, Lk, Hkv, B] and v [dv, Lk, Hkv, B]
     * (F16, not transposed), H a multiple of Hkv; mask (nullable, F16) [Lk, Lq, 1, 1]. The result is permuted:
     * [dv, H, Lq, B].
     */
    public Tensor flashAttention(Tensor q, Tensor k, Tensor v, Tensor mask, float scale) {
        long[] qn = q.ne();
        long[] kn = k.ne();
        long[] vn = v.ne();
        if (qn[0] != kn[0] || kn[1] != vn[1] || kn[2] != vn[2] || kn[3] != vn[3] || qn[3] != kn[3]
                || kn[2] == 0 || qn[2] % kn[2] != 0) {
            throw new GgmlException("flash_attn_ext: q " + Arrays.toString(qn) + ", k " + Arrays.toString(kn) + ", v "
                    + Arrays.toString(vn) + " do not fit: q and k need the same head size, k and v the same length "
                    + "and heads, and q's heads must be a multiple of k's");
        }
        if (q.type() != GgmlType.F32) {
            throw new GgmlException("flash_attn_ext: q must be F32, not " + q.type());
        }
        if (k.type() != GgmlType.F16 || v.type() != GgmlType.F16) {
            throw new GgmlException("flash_attn_ext: k and v must be F16 (cast them), not " + k.type() + " and " + v.type());
        }
        if (mask != null) {
            long[] mn = mask.ne();
            if (mask.type() != GgmlType.F16 || mn[0] != kn[1] || mn[1] < qn[1] || qn[2] % mn[2] != 0 || qn[3] % mn[3] != 0) {
                throw new GgmlException("flash_attn_ext: mask " + mask.type() + " " + Arrays.toString(mn)
                        + " must be F16 [Lk, ≥Lq, ...] for q " + Arrays.toString(qn) + " and k " + Arrays.toString(kn));
            }
        }
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new GgmlException("flash_attn_ext: scale must be a positive finite number, got " + scale);
        }
        MemorySegment r = ggml_h.ggml_flash_attn_ext(opCtx(), own(q), own(k), own(v),
                mask == null ? MemorySegment.NULL : own(mask), scale, 0f, 0f);
        ggml_h.ggml_flash_attn_ext_set_prec(r, ggml_h.GGML_PREC_F32());
        return wrap(r);
    }

    private static void requireRepeatable(String op, Tensor small, Tensor big) {
        long[] s = small.ne();
        long[] b = big.ne();
        for (int i = 0; i < 4; i++) {
            if (b[i] % s[i] != 0) {
                throw new GgmlException(op + ": " + small.name() + " " + Arrays.toString(s) + " cannot be broadcast over "
                        + big.name() + " " + Arrays.toString(b));
            }
        }
    }

    /** Marks a tensor's name for debugging; returns it. */
    public Tensor named(Tensor t, String name) {
        own(t);
        return t.name(name);
    }
}
