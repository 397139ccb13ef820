package io.jdiffusion.modes.depth2img;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.DepthEstimator.DepthMap;
import io.jdiffusion.api.RgbImage;
import org.junit.jupiter.api.Test;

class DepthChannelTest {
    /** 2 (d - min) / (max - min) - 1 per image: min to -1, max to +1, linear between. */
    @Test
    void normalisesToMinusOneOne() {
        float[] out = DepthChannel.normalise(new float[] {3, 5, 7, 4});
        assertArrayEquals(new float[] {-1f, 0f, 1f, -0.5f}, out, 1e-6f);
    }

    @Test
    void flatMapIsMidRangeNotNaN() {
        assertArrayEquals(new float[] {0, 0, 0}, DepthChannel.normalise(new float[] {2, 2, 2}), 0f);
    }

    /**
     * torch.nn.functional.interpolate(x, size=(2, 2), mode="bicubic", align_corners=False) of
     * x = arange(16).reshape(1, 1, 4, 4): source points 0.5 and 2.5, a = -0.75, borders clamped. Worked by hand:
     * along one axis, taps at -1..2 around floor(0.5) = 0 with t = 0.5 have weights (-0.09375, 0.59375, 0.59375,
     * -0.09375); on 0,1,2,3 with index -1 clamped to 0 that is 0.40625; at 2.5 (taps 1,2,3,4 -> 3) 2.59375.
     */
    @Test
    void bicubicDownscaleMatchesTorch() {
        float[] src = new float[16];
        for (int i = 0; i < 16; i++) {
            src[i] = i;
        }
        float[] out = DepthChannel.bicubic(src, 4, 4, 2, 2);
        // value = 4 * row + col, separable: rows 0.40625, 2.59375; cols the same
        assertArrayEquals(new float[] {4 * 0.40625f + 0.40625f, 4 * 0.40625f + 2.59375f,
                4 * 2.59375f + 0.40625f, 4 * 2.59375f + 2.59375f}, out, 1e-5f);
    }

    /**
     * Upscaling x2: output x reads source (x + 0.5) / 2 - 0.5. With a = -0.75 a ramp does not come back exactly:
     * at fraction 0.25 the weights are (-0.10547, 0.87891, 0.26172, -0.03516) (worked by hand), so the value is
     * floor + 0.296875; at fraction 0.75 floor + 0.703125.
     */
    @Test
    void bicubicUpscaleMatchesTorch() {
        float[] src = {0, 1, 2, 3, 4, 5, 6, 7};
        float[] out = DepthChannel.bicubic(src, 1, 8, 1, 16);
        assertEquals(1.703125, out[4], 1e-5, "source 1.75");
        assertEquals(2.296875, out[5], 1e-5, "source 2.25");
        // the same size is the identity
        assertArrayEquals(src, DepthChannel.bicubic(src, 2, 4, 2, 4), 1e-6f);
    }

    @Test
    void userImageIsTheMeanOfItsChannels() {
        RgbImage img = new RgbImage(2, 1, new float[] {1f, 0f, 1f, 0f, 1f, 0.5f});
        DepthMap d = DepthChannel.fromImage(img);
        assertEquals(2, d.width());
        // planar: red (1, 0), green (1, 0), blue (1, 0.5)
        assertArrayEquals(new float[] {1f, 0.5f / 3f}, new float[] {d.get(0, 0), d.get(1, 0)}, 1e-6f);
    }

    @Test
    void channelOfAMapIsAtLatentSizeAndNormalised() {
        float[] v = new float[64 * 64];
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                v[y * 64 + x] = Math.hypot(x - 31.5, y - 31.5) < 20 ? 300f : 10f;
            }
        }
        float[] ch = DepthChannel.of(new DepthMap(64, 64, v), 8, 16);
        assertEquals(128, ch.length);
        float min = 1, max = -1;
        for (float f : ch) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        assertEquals(-1f, min, 1e-6f);
        assertEquals(1f, max, 1e-6f);
        // bicubic rings a little at the circle's edge, so the extremes need not be the corner and the centre
        assertTrue(ch[0] < -0.7f, "corner is far: " + ch[0]);
        assertTrue(ch[4 * 16 + 8] > 0.7f, "centre is near: " + ch[4 * 16 + 8]);
    }
}
