package io.jdiffusion.toyworld;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * txt2img on the raw ONNX sessions: a plain DDIM loop (SD 1.5 betas, 20 steps, leading spacing, steps_offset 1,
 * eta 0), classifier-free guidance 7.5 with the empty prompt as unconditional, java.util.Random start noise.
 */
class EndToEndTest {

    static void assertScene(float[] img, int w, int h, String fg, String bg, String what) {
        assertEquals(fg, ToyFixture.colourAt(img, w, h, w / 2, h / 2), what + ": centre");
        int[][] corners = {{2, 2}, {w - 3, 2}, {2, h - 3}, {w - 3, h - 3}};
        for (int[] c : corners)
            assertEquals(bg, ToyFixture.colourAt(img, w, h, c[0], c[1]), what + ": corner " + c[0] + "," + c[1]);
    }

    @Test
    void redCircleOnWhite() throws Exception {
        float[] img = ToyFixture.get().generate("a red circle on a white background", 512, 512, 42, 20, 7.5);
        assertScene(img, 512, 512, "red", "white", "red circle on white");
        // the shape is a circle: a point inside the radius is red, a point outside it (but inside a square) white
        assertEquals("red", ToyFixture.colourAt(img, 512, 512, 256 + 130, 256));
        assertEquals("white", ToyFixture.colourAt(img, 512, 512, 256 + 120, 256 + 120));
    }

    @Test
    void blueStarOnYellow() throws Exception {
        float[] img = ToyFixture.get().generate("a blue star on a yellow background", 512, 512, 7, 20, 7.5);
        assertScene(img, 512, 512, "blue", "yellow", "blue star on yellow");
        // the top tip is blue, the notch between the top and the right tip is yellow
        assertEquals("blue", ToyFixture.colourAt(img, 512, 512, 256, 256 - 150));
        assertEquals("yellow", ToyFixture.colourAt(img, 512, 512, 256 + 90, 256 - 110));
    }

    @Test
    void wideImage() throws Exception {
        float[] img = ToyFixture.get().generate("a green square on a black background", 768, 512, 3, 20, 7.5);
        assertScene(img, 768, 512, "green", "black", "768x512 green square on black");
        // the square is centred on the wide image and spans about 60% of its height
        assertEquals("green", ToyFixture.colourAt(img, 768, 512, 384 - 110, 256 + 110));
        assertEquals("black", ToyFixture.colourAt(img, 768, 512, 384 - 150, 256));
    }

    @Test
    void everyShapeEveryColour() throws Exception {
        ToyFixture f = ToyFixture.get();
        for (int s = 0; s < World.SHAPES.size(); s++) {
            String fg = World.COLOURS.get((s * 3) % 8), bg = World.COLOURS.get((s * 3 + 5) % 8);
            int w = s % 2 == 0 ? 512 : 384, h = s % 3 == 0 ? 640 : 512;
            String prompt = "a photo of a " + fg + " " + World.SHAPES.get(s) + " on a " + bg + " background";
            assertScene(f.generate(prompt, w, h, 1000 + s, 20, 7.5), w, h, fg, bg, prompt + " " + w + "x" + h);
        }
    }

    @Test
    void picturesAreClean() throws Exception {
        float[] img = ToyFixture.get().generate("a white cross on a purple background", 512, 512, 11, 20, 7.5);
        assertScene(img, 512, 512, "white", "purple", "white cross on purple");
        double std = ToyFixture.patchStd(img, 512, 512, 8, 8, 64);
        assertTrue(std < 0.08, "background noise std " + std);
    }

    /** An Euler loop over FRACTIONAL timesteps works (sigma interpolated as diffusers does); without its input
     *  scaling it draws the wrong picture. */
    @Test
    void eulerWithFractionalTimesteps() throws Exception {
        ToyFixture f = ToyFixture.get();
        float[] img = f.generateEuler("a orange hexagon on a blue background", 512, 512, 5, 20, 7.5, true);
        assertScene(img, 512, 512, "orange", "blue", "Euler orange hexagon on blue");
        double std = ToyFixture.patchStd(img, 512, 512, 8, 8, 64);
        assertTrue(std < 0.08, "background noise std " + std);

        // the same loop without the x / sqrt(sigma^2 + 1) input scaling (a classic sampler bug) draws something else:
        // the UNet then sees far too strong a signal, and the start noise, not the prompt, picks the scene
        float[] broken = f.generateEuler("a orange hexagon on a blue background", 512, 512, 5, 20, 7.5, false);
        String got = ToyFixture.colourAt(broken, 512, 512, 256, 256) + " on " + ToyFixture.colourAt(broken, 512, 512, 3, 3);
        assertTrue(!got.equals("orange on blue"), "the bug went unnoticed");
    }
}
