package io.sdj.vae;

import io.sdj.InvalidParameterException;

import java.util.function.UnaryOperator;

/**
 * Runs a first-stage function (latent → image, or image → latent) tile by tile and blends the tiles the way
 * stable-diffusion.cpp does: tiles are laid out over the smaller of the two grids (the latent) with an overlap that
 * is re-fitted per axis so that the tiles cover it evenly, the last tile of a row or column is moved back to end at
 * the border, and each tile's contribution is weighted by a smootherstep ramp (6t⁵ − 15t⁴ + 10t³) across the overlap
 * on the sides that have a neighbour. Opposite ramps sum to one, so overlapping regions are cross-faded and no seam
 * is left; edges of the picture keep full weight.
 */
public final class Tiling {
    private Tiling() {
    }

    /** How one axis is cut: the number of tiles and the overlap fraction actually used. */
    public record Axis(int tiles, float overlap) {
    }

    /** The placement of one tile, in the small (latent) grid. */
    public record Tile(int index, int count, int x, int y) {
    }

    /** Told before each tile is processed. */
    @FunctionalInterface
    public interface TileListener {
        void tile(Tile tile);

        TileListener NONE = t -> {
        };
    }

    /**
     * Tiles along one axis of {@code size} small-grid pixels for tiles of {@code tile} at the target overlap (a
     * fraction of the tile): as many tiles as fit at the target, one more when that overlap stays ≤ ½, and the
     * overlap refitted to the count; one tile when the axis fits in one, two when two suffice.
     */
    public static Axis axis(int size, int tile, float overlap) {
        if (size < 1 || tile < 1) {
            throw new InvalidParameterException("tile", "tile " + tile + " and size " + size + " must be positive");
        }
        int ov = (int) (tile * overlap);
        int step = tile - ov;
        int n = (size - ov) / step;
        int overshoot = ((n + 1) * step + ov) % size;
        if (overshoot != step && overshoot <= n * (tile / 2 - ov)) {
            n++;
        }
        float f = (float) (tile * n - size) / (float) (tile * (n - 1));
        if (n <= 2) {
            if (size <= tile) {
                return new Axis(1, 0);
            }
            return new Axis(2, (2 * tile - size) / (float) tile);
        }
        return new Axis(n, f);
    }

    /** Number of tiles {@link #run} will process. */
    public static int tileCount(int smallWidth, int smallHeight, int tileX, int tileY, float overlap) {
        return axis(smallWidth, tileX, overlap).tiles() * axis(smallHeight, tileY, overlap).tiles();
    }

    /**
     * Applies {@code fn} tile by tile and blends the results.
     *
     * @param input   the whole input (latent to decode, or image to encode)
     * @param scale   output pixels per input pixel ({@code upscale}) or input pixels per output pixel
     * @param upscale true to decode (the output is {@code scale} times larger), false to encode
     * @param tileX   tile width in small-grid (latent) pixels
     * @param tileY   tile height in small-grid pixels
     * @param overlap target overlap, a fraction of the tile in [0, 0.5]
     * @param fn      the function of one tile; it must return a tile of the scaled size and a fixed channel count
     */
    public static Planar run(Planar input, int scale, boolean upscale, int tileX, int tileY, float overlap,
                             UnaryOperator<Planar> fn, TileListener listener) {
        if (scale < 1) {
            throw new InvalidParameterException("scale", "must be at least 1, got " + scale);
        }
        if (!(overlap >= 0 && overlap <= 0.5f)) {
            throw new InvalidParameterException("vae_tile_overlap", "must be in [0, 0.5], got " + overlap);
        }
        if (!upscale && (input.width() % scale != 0 || input.height() % scale != 0)) {
            throw new InvalidParameterException("size", "image " + input.width() + "x" + input.height()
                    + " is not a multiple of " + scale);
        }
        int smallW = upscale ? input.width() : input.width() / scale;
        int smallH = upscale ? input.height() : input.height() / scale;
        int outW = upscale ? smallW * scale : smallW;
        int outH = upscale ? smallH * scale : smallH;
        Axis ax = axis(smallW, tileX, overlap);
        Axis ay = axis(smallH, tileY, overlap);
        int ovX = (int) (tileX * ax.overlap());
        int ovY = (int) (tileY * ay.overlap());
        int stepX = Math.max(1, tileX - ovX);
        int stepY = Math.max(1, tileY - ovY);
        int tw = Math.min(tileX, smallW);
        int th = Math.min(tileY, smallH);
        int inScale = upscale ? 1 : scale;
        int outScale = upscale ? scale : 1;
        int count = ax.tiles() * ay.tiles();

        float[] out = null;
        int outChannels = 0;
        int index = 0;
        boolean lastY = false;
        for (int y = 0; y < smallH && !lastY; y += stepY) {
            int skipY = 0;
            if (y + th >= smallH) {
                skipY = (y - (smallH - th)) * outScale;
                y = smallH - th;
                lastY = true;
            }
            boolean lastX = false;
            for (int x = 0; x < smallW && !lastX; x += stepX) {
                int skipX = 0;
                if (x + tw >= smallW) {
                    skipX = (x - (smallW - tw)) * outScale;
                    x = smallW - tw;
                    lastX = true;
                }
                listener.tile(new Tile(index++, count, x, y));
                Planar tileIn = input.crop(x * inScale, y * inScale, tw * inScale, th * inScale);
                Planar tileOut = fn.apply(tileIn);
                if (tileOut.width() != tw * outScale || tileOut.height() != th * outScale
                        || (out != null && tileOut.channels() != outChannels)) {
                    throw new IllegalStateException("tile function returned " + tileOut.width() + "x"
                            + tileOut.height() + "x" + tileOut.channels() + " for a " + tw * outScale + "x"
                            + th * outScale + " tile");
                }
                if (out == null) {
                    outChannels = tileOut.channels();
                    out = new float[Math.multiplyExact(Math.multiplyExact(outW, outH), outChannels)];
                }
                blend(tileOut, out, outW, outH, x * outScale, y * outScale, ovX * outScale, ovY * outScale, skipX, skipY);
            }
        }
        return new Planar(out, outW, outH, outChannels);
    }

    /** Adds a tile into the output with sd.cpp's smootherstep weights; without overlap it is copied. */
    private static void blend(Planar tile, float[] out, int outW, int outH, int x0, int y0, int ovX, int ovY,
                              int skipX, int skipY) {
        int w = tile.width();
        int h = tile.height();
        float[] src = tile.data();
        boolean weighted = ovX > 0 || ovY > 0;
        float[] wx = new float[w];
        float[] wy = new float[h];
        for (int ix = skipX; ix < w; ix++) {
            wx[ix] = weighted ? ramp(ix, w, skipX, ovX, x0 > 0, x0 < outW - w) : 1;
        }
        for (int iy = skipY; iy < h; iy++) {
            wy[iy] = weighted ? ramp(iy, h, skipY, ovY, y0 > 0, y0 < outH - h) : 1;
        }
        for (int c = 0; c < tile.channels(); c++) {
            for (int iy = skipY; iy < h; iy++) {
                int srcRow = (c * h + iy) * w;
                int dstRow = (c * outH + y0 + iy) * outW + x0;
                for (int ix = skipX; ix < w; ix++) {
                    float v = src[srcRow + ix];
                    if (weighted) {
                        out[dstRow + ix] += v * wy[iy] * wx[ix];
                    } else {
                        out[dstRow + ix] = v;
                    }
                }
            }
        }
    }

    /** The smootherstep weight of position i of a tile of length n along one axis. */
    private static float ramp(int i, int n, int skip, int overlap, boolean hasBefore, boolean hasAfter) {
        float a = overlap > 0 && hasBefore ? (i - skip) / (float) overlap : 1f;
        float b = overlap > 0 && hasAfter ? (n - i) / (float) overlap : 1f;
        return smootherstep(Math.min(Math.min(a, b), 1f));
    }

    static float smootherstep(float t) {
        return t * t * t * (t * (6.0f * t - 15.0f) + 10.0f);
    }
}
