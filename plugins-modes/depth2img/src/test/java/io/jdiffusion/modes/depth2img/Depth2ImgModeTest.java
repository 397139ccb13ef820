package io.jdiffusion.modes.depth2img;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.DepthEstimator;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The mode against a stand-in context: where its depth comes from, and its img2img start. */
class Depth2ImgModeTest {
    static final int SIDE = 32; // 4 x 4 latents
    final List<RgbImage> estimated = new ArrayList<>();
    int draws;

    /** A 2 x 2 estimate: near at the top left only. */
    final DepthEstimator estimator = image -> {
        estimated.add(image);
        return new DepthEstimator.DepthMap(2, 2, new float[] {300, 10, 10, 10});
    };

    final Sampler sampler = new Sampler() {
        @Override
        public io.jdiffusion.api.SamplerPlan plan(io.jdiffusion.api.SchedulerConfig c, int steps,
                                                  io.jdiffusion.api.SamplerSettings s) {
            throw new UnsupportedOperationException();
        }

        @Override
        public float[] sample(io.jdiffusion.api.Denoiser m, float[] l, SamplerPlan p, int start, NoiseSource n,
                              io.jdiffusion.api.Progress pr) {
            throw new UnsupportedOperationException();
        }
    };

    GenerationMode.ModeContext context(Map<String, Object> inputs, DepthEstimator est) {
        double[] sigmas = new double[11];
        for (int i = 0; i < 10; i++) sigmas[i] = 10 - i;
        SamplerPlan plan = new SamplerPlan(new double[10], sigmas, 10, 1, null, null);
        return new GenerationMode.ModeContext() {
            public Sampler sampler() { return sampler; }
            public SamplerPlan plan() { return plan; }
            public int[] latentShape() { return new int[] {1, 4, SIDE / 8, SIDE / 8}; }
            public NoiseSource noise() {
                return new NoiseSource() {
                    public float[] randn(int n) { draws++; return new float[n]; }
                    public long seed() { return 1; }
                };
            }
            public Map<String, Object> inputs() { return inputs; }
            public float[] encodeImage(RgbImage image) { return new float[4 * 16]; }
            public int unetExtraChannels() { return 1; }
            public DepthEstimator depthEstimator() { return est; }
        };
    }

    static RgbImage grey(float v) {
        float[] rgb = new float[3 * SIDE * SIDE];
        java.util.Arrays.fill(rgb, v);
        return new RgbImage(SIDE, SIDE, rgb);
    }

    @Test
    void estimatesFromTheInitImageOncePerRequest() {
        Depth2ImgMode mode = new Depth2ImgMode();
        RgbImage init = grey(0.5f);
        Map<String, Object> inputs = new HashMap<>(Map.of("init_image", init, "strength", 0.5));
        GenerationMode.ModeContext ctx = context(inputs, estimator);
        GenerationMode.ModeStart a = mode.start(ctx);
        GenerationMode.ModeStart b = mode.start(ctx); // the second image of a batch
        assertEquals(List.of(init), estimated, "the estimator read the init image once");
        assertEquals(16, a.unetExtra().length, "one channel at latent size");
        assertSame(a.unetExtra(), b.unetExtra());
        float min = 1, max = -1;
        for (float v : a.unetExtra()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(-1f, min, 1e-6f, "normalised per image");
        assertEquals(1f, max, 1e-6f, "normalised per image");
        assertEquals(1f, a.unetExtra()[0], 1e-6f, "the near corner is the nearest");
        assertTrue(a.unetExtra()[15] < -0.5f, "the far corner is far (bicubic rings, so not quite -1)");
        assertEquals(5, a.startStep(), "strength 0.5 of 10 steps");
        assertEquals(2, draws, "one randn per image");
    }

    @Test
    void aUserMapWinsAndNeedsNoEstimator() {
        Depth2ImgMode mode = new Depth2ImgMode();
        Map<String, Object> inputs = Map.of("init_image", grey(0.5f), "depth_map", grey(0.3f), "strength", 0.0);
        GenerationMode.ModeStart s = mode.start(context(inputs, null));
        assertTrue(estimated.isEmpty());
        assertArrayEquals(new float[16], s.unetExtra(), 0f, "a flat map is all 0");
        assertEquals(10, s.startStep(), "strength 0: nothing to denoise");
        assertEquals(0, draws, "and no noise drawn");
        assertEquals("user", mode.infotext(inputs).get("Depth map"));
    }

    @Test
    void neitherMapNorEstimatorIsA400OnDepthMap() {
        Depth2ImgMode mode = new Depth2ImgMode();
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> mode.start(context(Map.of("init_image", grey(0.5f)), null)));
        assertEquals("depth_map", e.field());
        assertThrows(InvalidRequestException.class, () -> mode.check(Map.of()));
    }

    @Test
    void onlyADepthUnetAndDiffusersDefaults() {
        Depth2ImgMode mode = new Depth2ImgMode();
        assertTrue(mode.acceptsUnetChannels(1));
        assertFalse(mode.acceptsUnetChannels(0));
        assertFalse(mode.acceptsUnetChannels(5));
        assertEquals(0.8, mode.parameters().get(0).defaultValue());
        assertEquals(Map.of("Denoising strength", "0.8", "Depth map", "estimated"),
                mode.infotext(Map.of("init_image", grey(0f))));
        assertTrue(mode.imageInputs().contains("depth_map"), "depth_map is an image input");
    }
}
