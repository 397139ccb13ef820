package io.jdiffusion.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import org.junit.jupiter.api.Test;

class ResizeModeTest {
    /** A 200 x 100 image: left half red (1,0,0), right half blue (0,0,1). */
    private static RgbImage redBlue() {
        int w = 200, h = 100;
        float[] rgb = new float[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean left = x < w / 2;
                rgb[(0 * h + y) * w + x] = left ? 1 : 0;
                rgb[(2 * h + y) * w + x] = left ? 0 : 1;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void parsesNumbersAndNames() {
        assertEquals(ResizeMode.JUST_RESIZE, ResizeMode.parse(null));
        assertEquals(ResizeMode.JUST_RESIZE, ResizeMode.parse(0));
        assertEquals(ResizeMode.CROP_AND_RESIZE, ResizeMode.parse(1L));
        assertEquals(ResizeMode.RESIZE_AND_FILL, ResizeMode.parse(2.0));
        assertEquals(ResizeMode.CROP_AND_RESIZE, ResizeMode.parse("crop and resize"));
        assertEquals(ResizeMode.RESIZE_AND_FILL, ResizeMode.parse("Resize_And_Fill"));
        assertEquals(ResizeMode.JUST_RESIZE, ResizeMode.parse("0"));
        for (Object bad : new Object[] {3, 1.5, -1, "stretch", true}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> ResizeMode.parse(bad));
            assertEquals("resize_mode", e.field());
        }
    }

    @Test
    void justResizeStretchesTheWholeImage() {
        RgbImage out = ResizeMode.JUST_RESIZE.apply(redBlue(), 64, 64);
        assertEquals(64, out.width());
        assertEquals(64, out.height());
        assertEquals(1f, out.get(0, 5, 32), 1e-6);   // red on the left
        assertEquals(1f, out.get(2, 58, 32), 1e-6);  // blue on the right
        assertEquals(0.5f, out.get(0, 31, 32) + out.get(0, 32, 32) - 0.5f, 0.3f); // a soft edge in the middle
    }

    @Test
    void cropAndResizeKeepsTheCentreAndCutsTheSides() {
        // 200x100 into 100x100: scaled to 200x100 (height matches), the centre 100 columns kept: 50 red, 50 blue
        RgbImage out = ResizeMode.CROP_AND_RESIZE.apply(redBlue(), 100, 100);
        assertEquals(1f, out.get(0, 10, 50), 1e-6);
        assertEquals(1f, out.get(2, 90, 50), 1e-6);
        assertEquals(1f, out.get(0, 48, 50), 1e-6);
        assertEquals(1f, out.get(2, 51, 50), 1e-6);
    }

    @Test
    void resizeAndFillFitsInsideAndStretchesTheEdges() {
        // 200x100 into 100x100: scaled to 100x50, pasted at y 25..74; bands above and below repeat the edge rows
        RgbImage out = ResizeMode.RESIZE_AND_FILL.apply(redBlue(), 100, 100);
        for (int y : new int[] {0, 10, 50, 99}) {
            assertEquals(1f, out.get(0, 5, y), 1e-6, "red at x 5, y " + y);
            assertEquals(1f, out.get(2, 95, y), 1e-6, "blue at x 95, y " + y);
        }
    }

    @Test
    void sameAspectIsAPlainResizeAndSameSizeIsTheImageItself() {
        RgbImage img = redBlue();
        assertSame(img, ResizeMode.CROP_AND_RESIZE.apply(img, 200, 100));
        RgbImage half = ResizeMode.RESIZE_AND_FILL.apply(img, 100, 50);
        assertEquals(1f, half.get(0, 10, 10), 1e-6);
    }

    @Test
    void downscalingAveragesEverySourcePixel() {
        // a 1-pixel checkerboard shrunk 4x is flat grey, not an aliased pattern
        int n = 64;
        float[] rgb = new float[3 * n * n];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++) rgb[(c * n + y) * n + x] = (x + y) % 2;
        RgbImage out = ResizeMode.JUST_RESIZE.apply(new RgbImage(n, n, rgb), 16, 16);
        for (int y = 1; y < 15; y++)
            for (int x = 1; x < 15; x++) assertEquals(0.5f, out.get(1, x, y), 0.02f);
    }
}
