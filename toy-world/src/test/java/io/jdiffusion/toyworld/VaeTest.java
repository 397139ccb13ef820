package io.jdiffusion.toyworld;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VaeTest {
    static float[] flat(int[] rgb, int h, int w) {
        float[] img = new float[3 * h * w];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < h * w; i++) img[c * h * w + i] = (float) (rgb[c] / 127.5 - 1);
        return img;
    }

    @Test
    void encodeOfAFlatColourIsItsLatentOverTheScalingFactor() throws Exception {
        ToyFixture f = ToyFixture.get();
        int h = 64, w = 128;
        for (String colour : World.COLOURS) {
            float[] z = f.encodeImage(flat(World.rgb(colour), h, w), 1, h, w);
            assertEquals(4 * (h / 8) * (w / 8), z.length);
            double[] l = ToyVae.scaledLatent(colour);
            int plane = (h / 8) * (w / 8);
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < plane; p++)
                    assertEquals(l[c] / ToyVae.SCALING_FACTOR, z[c * plane + p], 1e-4, colour + " channel " + c);
        }
    }

    @Test
    void roundTripGivesTheColourBack() throws Exception {
        ToyFixture f = ToyFixture.get();
        int h = 64, w = 64;
        for (String colour : World.COLOURS) {
            float[] z = f.encodeImage(flat(World.rgb(colour), h, w), 1, h, w);
            float[] img = f.decode(z, 1, h / 8, w / 8);
            assertEquals(3 * h * w, img.length);
            int[] rgb = World.rgb(colour);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < h * w; p += 97)
                    assertEquals(rgb[c] / 127.5 - 1, img[c * h * w + p], 1e-4, colour);
            assertEquals(colour, ToyFixture.colourAt(img, w, h, 5, 7));
        }
    }

    @Test
    void decoderUpsamplesSmoothly() throws Exception {
        ToyFixture f = ToyFixture.get();
        // left half red, right half white, in latents
        int h = 2, w = 4;
        double[] red = ToyVae.scaledLatent("red"), white = ToyVae.scaledLatent("white");
        float[] z = new float[4 * h * w];
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    z[c * h * w + i * w + j] = (float) ((j < 2 ? red : white)[c] / ToyVae.SCALING_FACTOR);
        float[] img = f.decode(z, 1, h, w);
        int W = 32, H = 16;
        assertEquals(3 * W * H, img.length);
        assertEquals("red", ToyFixture.colourAt(img, W, H, 0, 0));
        assertEquals("white", ToyFixture.colourAt(img, W, H, W - 1, H - 1));
        // green channel ramps monotonically across the edge (bilinear, no step)
        float prev = -2;
        int distinct = 0;
        for (int x = 8; x < 24; x++) {
            float g = img[W * H + 5 * W + x];
            assertTrue(g >= prev - 1e-6, "monotone at " + x);
            if (g > prev + 1e-4) distinct++;
            prev = g;
        }
        assertTrue(distinct >= 6, "a ramp, not a step: " + distinct);
    }

    @Test
    void allColourLatentsHaveTheSameNormAndAreSpread() {
        double n0 = -1;
        for (String c : World.COLOURS) {
            double[] l = ToyVae.scaledLatent(c);
            double n = Math.sqrt(l[0] * l[0] + l[1] * l[1] + l[2] * l[2] + l[3] * l[3]);
            if (n0 < 0) n0 = n;
            assertEquals(n0, n, 1e-6, c);
            for (double v : l) assertTrue(Math.abs(v) < 1.6, c);
        }
        for (String a : World.COLOURS)
            for (String b : World.COLOURS) {
                if (a.equals(b)) continue;
                double[] la = ToyVae.scaledLatent(a), lb = ToyVae.scaledLatent(b);
                double d = 0;
                for (int i = 0; i < 4; i++) d += (la[i] - lb[i]) * (la[i] - lb[i]);
                assertTrue(Math.sqrt(d) > 0.45, a + "/" + b + " " + Math.sqrt(d));
            }
    }
}
