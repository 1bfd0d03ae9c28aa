package io.sdj.vae;

import io.sdj.InvalidParameterException;

/**
 * An image or latent as planar floats, ggml's order for one picture: {@code channels} planes of {@code height} rows
 * of {@code width} values (x fastest). The array is owned by the record; callers must not change it afterwards.
 */
public record Planar(float[] data, int width, int height, int channels) {

    public Planar {
        if (width < 1 || height < 1 || channels < 1) {
            throw new InvalidParameterException("size", "planar tensor needs positive sizes, got " + width + "x"
                    + height + "x" + channels);
        }
        if (data == null || (long) width * height * channels != data.length) {
            throw new InvalidParameterException("size", "planar " + width + "x" + height + "x" + channels
                    + " needs " + (long) width * height * channels + " values, got "
                    + (data == null ? "none" : data.length));
        }
    }

    /** A zero-filled tensor. */
    public static Planar zeros(int width, int height, int channels) {
        return new Planar(new float[Math.multiplyExact(Math.multiplyExact(width, height), channels)], width, height,
                channels);
    }

    /** The value at (x, y) of plane c. */
    public float get(int x, int y, int c) {
        return data[(c * height + y) * width + x];
    }

    /** A copy of the region of {@code w}×{@code h} pixels starting at (x, y), every channel. */
    public Planar crop(int x, int y, int w, int h) {
        if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > width || y + h > height) {
            throw new InvalidParameterException("region", "crop " + w + "x" + h + " at " + x + "," + y
                    + " does not fit in " + width + "x" + height);
        }
        float[] out = new float[w * h * channels];
        for (int c = 0; c < channels; c++) {
            for (int row = 0; row < h; row++) {
                System.arraycopy(data, (c * height + y + row) * width + x, out, (c * h + row) * w, w);
            }
        }
        return new Planar(out, w, h, channels);
    }
}
