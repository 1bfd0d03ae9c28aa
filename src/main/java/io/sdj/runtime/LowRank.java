package io.sdj.runtime;

/**
 * A low-rank term added to a layer's output at run time: {@code y += scale · up(down(x))}. For a Linear layer down
 * is [in, rank] and up [rank, out] (ggml order); for a convolution down is a kernel [kw, kh, in, rank] run with the
 * layer's stride and padding and up a 1×1 kernel [1, 1, rank, out].
 */
public record LowRank(Tensor down, Tensor up, float scale) {
}
