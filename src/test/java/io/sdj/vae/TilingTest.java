package io.sdj.vae;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TilingTest {

    @Test
    void tileCountsFollowSdCpp() {
        // sd.cpp's sd_tiling_calc_tiles, worked by hand: one tile when the axis fits, two when two suffice
        assertEquals(new Tiling.Axis(1, 0), Tiling.axis(32, 32, 0.5f));
        assertEquals(new Tiling.Axis(1, 0), Tiling.axis(20, 32, 0.5f));
        assertEquals(2, Tiling.axis(44, 32, 0.5f).tiles());
        assertEquals((2 * 32 - 44) / 32f, Tiling.axis(44, 32, 0.5f).overlap());
        assertEquals(3, Tiling.axis(64, 32, 0.5f).tiles());
        assertEquals(4, Tiling.axis(80, 32, 0.5f).tiles());
        assertEquals(5, Tiling.axis(100, 32, 0.5f).tiles());
        assertEquals(4, Tiling.axis(100, 32, 0.25f).tiles());
        assertEquals(7, Tiling.axis(128, 32, 0.5f).tiles()); // 1024² image: 7 × 7 tiles of 32 latent pixels
        assertEquals(15, Tiling.axis(256, 32, 0.5f).tiles()); // 2048²
    }

    @Test
    void tileSizesFollowSdCliOptions() {
        VaeTiling t = VaeTiling.DEFAULT.withEnabled(true);
        assertEquals(32, t.tileWidth(128, 1));
        assertEquals(20, t.tileWidth(20, 1), "never larger than the latent");
        assertEquals(41, t.tileWidth(128, VaeTiling.ENCODE_TILE_FACTOR), "encoder tiles are 1.30539x larger");
        VaeTiling rel = new VaeTiling(true, 32, 32, 0.5f, 0.25f, 0.5f, 0);
        assertEquals(64, rel.tileWidth(128, 1));
        assertEquals(32, rel.tileHeight(128, 1));
        VaeTiling count = new VaeTiling(true, 32, 32, 3, 3, 0.5f, 0); // three tiles per axis at half overlap
        assertEquals(64, count.tileWidth(128, 1));
        assertEquals(3, Tiling.axis(128, count.tileWidth(128, 1), 0.5f).tiles());
        assertEquals(0.5f, new VaeTiling(true, 32, 32, 0, 0, 0.9f, 0).effectiveOverlap());
        assertEquals(0f, new VaeTiling(true, 32, 32, 0, 0, -1f, 0).effectiveOverlap());
        assertEquals(VaeTiling.MIN_TILE_SIZE, new VaeTiling(true, 2, 2, 0, 0, 0.5f, 0).tileWidth(2, 1));
        assertThrows(InvalidParameterException.class, () -> new VaeTiling(true, 32, 32, Float.NaN, 0, 0.5f, 0));
    }

    /** A point-wise "decoder": each latent pixel becomes a scale×scale block holding f(value). */
    static Planar pointwise(Planar latent, int scale) {
        int w = latent.width() * scale;
        int h = latent.height() * scale;
        float[] out = new float[w * h * latent.channels()];
        for (int c = 0; c < latent.channels(); c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    out[(c * h + y) * w + x] = 2 * latent.get(x / scale, y / scale, c) + 1;
                }
            }
        }
        return new Planar(out, w, h, latent.channels());
    }

    static Planar ramp(int w, int h, int c) {
        float[] v = new float[w * h * c];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i * 0.37) + (i % 7) * 0.1f;
        }
        return new Planar(v, w, h, c);
    }

    @Test
    void blendedTilesOfAPointwiseFunctionEqualTheWhole() {
        // weights of overlapping tiles sum to one, so a function without spatial context comes out unchanged
        Planar latent = ramp(45, 27, 2);
        Planar whole = pointwise(latent, 8);
        List<Tiling.Tile> seen = new ArrayList<>();
        Planar tiled = Tiling.run(latent, 8, true, 16, 12, 0.5f, t -> pointwise(t, 8), seen::add);
        assertEquals(whole.width(), tiled.width());
        assertEquals(whole.height(), tiled.height());
        assertEquals(Tiling.tileCount(45, 27, 16, 12, 0.5f), seen.size());
        assertTrue(seen.size() > 4, "several tiles: " + seen.size());
        for (int i = 0; i < whole.data().length; i++) {
            assertEquals(whole.data()[i], tiled.data()[i], 1e-5f, "sample " + i);
        }
    }

    @Test
    void encodeDirectionTilesTheOutputGrid() {
        Planar image = ramp(96, 64, 3);
        // "encoder": average each 8×8 block
        java.util.function.UnaryOperator<Planar> enc = p -> {
            int w = p.width() / 8;
            int h = p.height() / 8;
            float[] o = new float[w * h * p.channels()];
            for (int c = 0; c < p.channels(); c++) {
                for (int y = 0; y < p.height(); y++) {
                    for (int x = 0; x < p.width(); x++) {
                        o[(c * h + y / 8) * w + x / 8] += p.get(x, y, c) / 64f;
                    }
                }
            }
            return new Planar(o, w, h, p.channels());
        };
        Planar whole = enc.apply(image);
        Planar tiled = Tiling.run(image, 8, false, 5, 4, 0.5f, enc, Tiling.TileListener.NONE);
        assertEquals(12, tiled.width());
        assertEquals(8, tiled.height());
        for (int i = 0; i < whole.data().length; i++) {
            assertEquals(whole.data()[i], tiled.data()[i], 1e-5f);
        }
    }

    @Test
    void seamsAreCrossFadedWithSmootherstep() {
        // two tiles of constant 0 and 1: the overlap ramps between them by smootherstep, no step at the seam
        Planar latent = new Planar(new float[48], 48, 1, 1);
        int[] calls = {0};
        Planar out = Tiling.run(latent, 1, true, 32, 1, 0.5f, t -> {
            float v = calls[0]++ == 0 ? 0f : 1f;
            float[] d = new float[t.data().length];
            java.util.Arrays.fill(d, v);
            return new Planar(d, t.width(), t.height(), 1);
        }, Tiling.TileListener.NONE);
        assertEquals(2, calls[0]);
        float[] d = out.data();
        assertEquals(0f, d[0]);
        assertEquals(1f, d[47]);
        for (int i = 1; i < 48; i++) {
            assertTrue(d[i] >= d[i - 1] - 1e-6f, "monotone at " + i);
            assertTrue(d[i] - d[i - 1] < 0.15f, "no step at " + i + ": " + d[i - 1] + " → " + d[i]);
        }
        // the overlap is 16..31 (second tile starts at 16); its middle is half way
        assertEquals(Tiling.smootherstep(8 / 16f), d[24], 1e-6f);
        assertArrayEquals(new float[]{0f}, new float[]{d[15]});
    }

    @Test
    void badArgumentsAreRefused() {
        Planar p = ramp(8, 8, 1);
        assertThrows(InvalidParameterException.class, () -> Tiling.run(p, 0, true, 4, 4, 0.5f, t -> t, Tiling.TileListener.NONE));
        assertThrows(InvalidParameterException.class, () -> Tiling.run(p, 8, true, 4, 4, 0.7f, t -> t, Tiling.TileListener.NONE));
        assertThrows(InvalidParameterException.class, () -> Tiling.run(ramp(9, 8, 1), 8, false, 4, 4, 0.5f, t -> t,
                Tiling.TileListener.NONE));
        assertThrows(IllegalStateException.class, () -> Tiling.run(p, 2, true, 4, 4, 0.5f, t -> t, Tiling.TileListener.NONE),
                "a tile function returning the wrong size");
        assertThrows(InvalidParameterException.class, () -> new Planar(new float[5], 2, 2, 1));
    }
}
