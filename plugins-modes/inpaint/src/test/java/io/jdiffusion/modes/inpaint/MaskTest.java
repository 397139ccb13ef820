package io.jdiffusion.modes.inpaint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.RgbImage;
import org.junit.jupiter.api.Test;

class MaskTest {
    /** 32 x 16: the right half white. */
    private static RgbImage rightHalf() {
        int w = 32, h = 16;
        float[] rgb = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = w / 2; x < w; x++) rgb[(c * h + y) * w + x] = 1f;
        return new RgbImage(w, h, rgb);
    }

    @Test
    void latentMaskIsTheBlockAverageRounded() {
        float[] grey = Mask.grey(rightHalf());
        assertEquals(1f, grey[20], 1e-6);
        assertEquals(0f, grey[3], 1e-6);
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 1}, Mask.latent(grey, 32, 16, 8));
    }

    @Test
    void blurSoftensTheEdgeOnlyNearIt() {
        float[] m = Mask.blur(Mask.grey(rightHalf()), 32, 16, 2);
        assertEquals(0f, m[0], 1e-4);
        assertEquals(1f, m[31], 1e-4);
        assertTrue(m[15] > 0.2 && m[15] < 0.5, "left of the edge: " + m[15]);
        assertTrue(m[16] > 0.5 && m[16] < 0.8, "right of the edge: " + m[16]);
        assertArrayEquals(Mask.grey(rightHalf()), Mask.blur(Mask.grey(rightHalf()), 32, 16, 0));
    }

    @Test
    void blurUsesA1111sKernelAndCv2sReflectedBorder() {
        // sigma 2: kernel 2 * int(5.5) + 1 = 11 taps, so a step is felt exactly 5 pixels away and not 6
        float[] step = new float[40];
        for (int x = 20; x < 40; x++) step[x] = 1f;
        float[] m = Mask.blur(step, 40, 1, 2);
        assertTrue(m[15] > 0f, "5 px left of the edge: " + m[15]);
        assertEquals(0f, m[14], 0f, "6 px left of the edge");
        assertEquals(2, Mask.reflect101(-2, 10));
        assertEquals(7, Mask.reflect101(11, 10));
        // reflect-101: a bright first pixel is mirrored inward (zeros), not repeated outward (clamping gives 0.70)
        float[] dot = new float[10];
        dot[0] = 1f;
        float[] b = Mask.blur(dot, 10, 1, 1);
        assertEquals(0.399f, b[0], 0.001f, "the centre tap alone");
    }

    @Test
    void theOverlayIsTheBlurredMaskDoubledAndClipped() {
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 1f}, Mask.overlay(new float[] {0f, 0.25f, 0.5f, 0.9f}), 0f);
    }

    @Test
    void pasteBackKeepsTheOriginalOutsideTheMask() {
        float[] result = {0.9f, 0.9f, 0.9f, 0.9f};
        float[] original = {0.1f, 0.1f, 0.1f, 0.1f};
        float[] mask = {0f, 1f}; // one channel of two pixels, applied per plane
        assertArrayEquals(new float[] {0.1f, 0.9f, 0.1f, 0.9f}, InpaintMode.pasteBack(result, original, mask), 1e-6f);
    }
}
