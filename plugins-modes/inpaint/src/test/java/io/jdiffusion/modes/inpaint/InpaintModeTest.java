package io.jdiffusion.modes.inpaint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** How the mode starts on an ordinary and on an inpainting UNet, with a context that records what it is asked. */
class InpaintModeTest {
    static final int W = 32, H = 16, F = 8, LW = W / F, LH = H / F, LN = 4 * LW * LH;
    static final double INIT_SIGMA = 14.6;

    /** A context whose "VAE" is the block mean of the red plane in every channel, and whose noise is seeded. */
    static GenerationMode.ModeContext context(int extraChannels, double strength, int fill) {
        Sampler sampler = new Sampler() {
            public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
                throw new UnsupportedOperationException();
            }

            public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                                  io.jdiffusion.api.Progress progress) {
                throw new UnsupportedOperationException();
            }
        };
        double[] sigmas = {14.6, 7, 3, 1, 0.5, 0};
        SamplerPlan plan = new SamplerPlan(new double[] {999, 750, 500, 250, 100}, sigmas, INIT_SIGMA, 1,
                SchedulerConfig.sd15(), SamplerSettings.DEFAULT);
        Map<String, Object> inputs = new HashMap<>(Map.of(InpaintMode.INIT_IMAGE, MaskedContentTest.redBlue(),
                InpaintMode.MASK, maskImage(), InpaintMode.STRENGTH, strength, InpaintMode.MASK_BLUR, 0.0,
                InpaintMode.INPAINTING_FILL, fill));
        Random rnd = new Random(7);
        return new GenerationMode.ModeContext() {
            public Sampler sampler() { return sampler; }
            public SamplerPlan plan() { return plan; }
            public int[] latentShape() { return new int[] {1, 4, LH, LW}; }
            public NoiseSource noise() {
                return new NoiseSource() {
                    public float[] randn(int n) {
                        float[] out = new float[n];
                        for (int i = 0; i < n; i++) out[i] = (float) rnd.nextGaussian();
                        return out;
                    }
                    public long seed() { return 7; }
                };
            }
            public Map<String, Object> inputs() { return inputs; }
            @Override
            public float[] encodeImage(RgbImage img) {
                float[] lat = new float[LN];
                for (int ly = 0; ly < LH; ly++)
                    for (int lx = 0; lx < LW; lx++) {
                        double s = 0;
                        for (int y = ly * F; y < ly * F + F; y++) for (int x = lx * F; x < lx * F + F; x++) s += img.get(0, x, y);
                        for (int c = 0; c < 4; c++) lat[c * LW * LH + ly * LW + lx] = (float) (s / (F * F));
                    }
                return lat;
            }
            @Override
            public int unetExtraChannels() { return extraChannels; }
        };
    }

    /** White (repaint) on the left half. */
    static RgbImage maskImage() {
        float[] m = MaskedContentTest.leftMask();
        float[] rgb = new float[3 * m.length];
        for (int c = 0; c < 3; c++) System.arraycopy(m, 0, rgb, c * m.length, m.length);
        return new RgbImage(W, H, rgb);
    }

    static final Denoiser GUIDED = new Denoiser() {
        public float[] predict(float[] x, double t) { return x.clone(); }
        public int[] latentShape() { return new int[] {1, 4, LH, LW}; }
    };

    @Test
    void anInpaintingUnetGetsTheMaskAndMaskedImageLatentsAndNoBlending() {
        InpaintMode mode = new InpaintMode();
        assertTrue(mode.acceptsUnetChannels(0) && mode.acceptsUnetChannels(5));
        assertFalse(mode.acceptsUnetChannels(1), "a depth UNet is not for inpainting");
        GenerationMode.ModeStart start = mode.start(context(5, 0.6, 1));
        float[] extra = start.unetExtra();
        assertEquals(LW * LH + LN, extra.length, "[1, 5, h, w]");
        assertArrayEquals(new float[] {1, 1, 0, 0, 1, 1, 0, 0}, java.util.Arrays.copyOf(extra, LW * LH), "the latent mask");
        // masked-image latents: the masked (left, red) half grey 0.5, the kept (blue) half red 0
        assertEquals(0.5f, extra[LW * LH], 0f);
        assertEquals(0f, extra[LW * LH + 2], 0f);
        assertSame(GUIDED, start.hooks().denoiser(GUIDED), "diffusers does no latent blending for 9 channels");
        assertEquals(5 - (int) (5 * 0.6), start.startStep());
    }

    @Test
    void anOrdinaryUnetBlendsAndGetsNoExtraChannels() {
        GenerationMode.ModeStart start = new InpaintMode().start(context(0, 0.6, 1));
        assertNull(start.unetExtra());
        assertInstanceOf(LatentBlend.class, start.hooks().denoiser(GUIDED));
    }

    @Test
    void strengthOneOnAnInpaintingUnetStartsFromPureNoise() {
        GenerationMode.ModeStart nine = new InpaintMode().start(context(5, 1.0, 1));
        // the same seeded noise as the context draws first, times init_noise_sigma, no image in it
        Random rnd = new Random(7);
        for (int i = 0; i < LN; i++) assertEquals((float) (rnd.nextGaussian() * INIT_SIGMA), nine.latents()[i], 1e-5);
        assertEquals(0, nine.startStep());
        // the ordinary UNet's path (A1111) keeps the image in: x0 + sigma * noise
        GenerationMode.ModeStart four = new InpaintMode().start(context(0, 1.0, 1));
        Random rnd4 = new Random(7);
        float first = (float) (rnd4.nextGaussian() * 14.6 + 1.0); // latent 0: the red block, red 1
        assertEquals(first, four.latents()[0], 1e-4);
    }

    @Test
    void infotextNamesTheMaskedContentAsA1111() {
        InpaintMode mode = new InpaintMode();
        assertFalse(mode.infotext(Map.of(InpaintMode.INPAINTING_FILL, 1)).containsKey("Masked content"));
        assertEquals("fill", mode.infotext(Map.of(InpaintMode.INPAINTING_FILL, 0)).get("Masked content"));
        assertEquals("latent nothing", mode.infotext(Map.of(InpaintMode.INPAINTING_FILL, 3)).get("Masked content"));
        assertEquals(Map.of(InpaintMode.MASK, InpaintMode.INIT_IMAGE), mode.sameSizeImages());
    }
}
