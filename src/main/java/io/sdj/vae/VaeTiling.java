package io.sdj.vae;

import io.sdj.InvalidParameterException;

/**
 * How the first stage (KL VAE or TAESD) is run in tiles, with sd-cli's options: {@code --vae-tiling} ({@link
 * #enabled}), {@code --vae-tile-size XxY} (latent pixels, default 32x32), {@code --vae-relative-tile-size XxY} (a
 * fraction of the latent size when ≤ 1, a number of tiles per axis when > 1; overrides the tile size) and {@code
 * --vae-tile-overlap} (fraction of a tile, default 0.5, used clamped to [0, 0.5]).
 *
 * <p>{@code memoryBudget} is sdj's own: the compute memory (bytes) an untiled decode or encode may take before sdj
 * falls back to tiling; 0 means what the device reports free.
 */
public record VaeTiling(boolean enabled, int tileSizeX, int tileSizeY, float relativeX, float relativeY,
                        float overlap, long memoryBudget) {
    /** sd.cpp's default tile side, in latent pixels. */
    public static final int DEFAULT_TILE_SIZE = 32;
    /** sd.cpp's default overlap, a fraction of the tile. */
    public static final float DEFAULT_OVERLAP = 0.5f;
    /** sd.cpp's smallest tile side. */
    public static final int MIN_TILE_SIZE = 4;
    /** sd.cpp enlarges encoder tiles by this factor so that the encoder's compute buffer matches the decoder's. */
    public static final float ENCODE_TILE_FACTOR = 1.30539f;

    /** Tiling off (but still the automatic fallback), sd-cli's defaults otherwise. */
    public static final VaeTiling DEFAULT = new VaeTiling(false, DEFAULT_TILE_SIZE, DEFAULT_TILE_SIZE, 0, 0,
            DEFAULT_OVERLAP, 0);

    public VaeTiling {
        if (tileSizeX < 0 || tileSizeY < 0) {
            throw new InvalidParameterException("vae_tile_size", "must not be negative, got " + tileSizeX + "x" + tileSizeY);
        }
        if (!(relativeX >= 0) || !(relativeY >= 0) || Float.isInfinite(relativeX) || Float.isInfinite(relativeY)) {
            throw new InvalidParameterException("vae_relative_tile_size", "must be finite and ≥ 0, got " + relativeX
                    + "x" + relativeY);
        }
        if (!Float.isFinite(overlap)) {
            throw new InvalidParameterException("vae_tile_overlap", "must be a finite number, got " + overlap);
        }
        if (memoryBudget < 0) {
            throw new InvalidParameterException("vae_memory_budget", "must not be negative, got " + memoryBudget);
        }
    }

    /** The same settings with tiling switched on or off. */
    public VaeTiling withEnabled(boolean on) {
        return new VaeTiling(on, tileSizeX, tileSizeY, relativeX, relativeY, overlap, memoryBudget);
    }

    /** The same settings with another fallback budget (bytes; 0 = the device's free memory). */
    public VaeTiling withMemoryBudget(long bytes) {
        return new VaeTiling(enabled, tileSizeX, tileSizeY, relativeX, relativeY, overlap, bytes);
    }

    /** The overlap used: clamped to [0, 0.5] as sd.cpp does. */
    public float effectiveOverlap() {
        return Math.max(Math.min(overlap, 0.5f), 0.0f);
    }

    /** The tile width in latent pixels for a latent {@code latentWidth} wide (encodeFactor 1 to decode). */
    public int tileWidth(int latentWidth, float encodeFactor) {
        return side(tileSizeX, relativeX, latentWidth, encodeFactor);
    }

    /** The tile height in latent pixels for a latent {@code latentHeight} high. */
    public int tileHeight(int latentHeight, float encodeFactor) {
        return side(tileSizeY, relativeY, latentHeight, encodeFactor);
    }

    private int side(int requested, float relative, int latent, float encodeFactor) {
        int size = DEFAULT_TILE_SIZE;
        if (relative > 0) {
            float f = relative;
            if (f > 1) { // a tile count: the side that gives that many tiles at this overlap
                float o = effectiveOverlap();
                f = 1 / (f - f * o + o);
            }
            size = Math.round(latent * f);
        } else if (requested >= MIN_TILE_SIZE) {
            size = requested;
        }
        size = (int) (size * encodeFactor);
        return Math.max(Math.min(size, latent), MIN_TILE_SIZE);
    }
}
