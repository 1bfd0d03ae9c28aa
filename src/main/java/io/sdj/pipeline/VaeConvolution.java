package io.sdj.pipeline;

import io.sdj.runtime.Backend;

/**
 * How the VAE (and TAESD) convolve: {@code ggml_conv_2d} (im2col into a buffer, then a matrix product; sd.cpp's
 * default) or {@code ggml_conv_2d_direct} (sd-cli's {@code --vae-conv-direct}: no im2col buffer).
 *
 * <p>On the CPU backend both give the same pixels (bit for bit in sdj's tests); direct convolution needs
 * about 2.6x less compute memory and took 1.07x the time of im2col at 512² (1.18x at 256², SD 1.5 VAE, 2 threads).
 *
 * <ul>
 *   <li>{@link #AUTO}: im2col, unless its compute buffer is over 1 GiB and would lift the decode more than 10 % above
 *       the memory the sampling phase used (weights resident then plus the U-Net's compute buffer): then direct convolution,
 *       with a log line. On the CPU only; other backends keep im2col. This is what keeps an SDXL decode at 1024²
 *       (6.5 GiB of im2col buffers) from being the peak of a whole run.</li>
 *   <li>{@link #IM2COL}: always im2col.</li>
 *   <li>{@link #DIRECT}: always direct convolution.</li>
 * </ul>
 */
public enum VaeConvolution {
    AUTO, IM2COL, DIRECT;

    /** True when this choice may switch to direct convolution by memory on {@code backend}. */
    boolean decidesByMemory(Backend backend) {
        return this == AUTO && backend.isCpu();
    }

    /** DIRECT for true, IM2COL for false. */
    static VaeConvolution of(boolean direct) {
        return direct ? DIRECT : IM2COL;
    }
}
