package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.SchedulerConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * The fixtures of diffusers' scheduler tests (tests/schedulers/test_schedulers.py,
 * SchedulerCommonTest): a deterministic 4x3x8x8 sample and noise, and the dummy model
 * {@code sample * t / (t + 1)}, all in float32 as torch computes them.
 *
 * <p>The dummy model comes in two flavours because diffusers' schedulers hand it timesteps of two
 * dtypes, and the expected sums in the tests were recorded with each: {@link #dummyModel} for a
 * float32 (or int64) timestep tensor (DDIM, DDPM, Euler, DPM++, UniPC, PNDM, LCM), and
 * {@link #dummyModelFloat64} for the float64 timesteps of the k-diffusion ports (Heun, DPM2,
 * DPM2 a, Euler a, LMS). They agree whenever t is a float32 value; they may differ in the last bit
 * of {@code t + 1} otherwise, which is enough to move a recorded sum.
 */
public final class DiffusersFixtures {
    public static final int BATCH = 4;
    public static final int CHANNELS = 3;
    public static final int HEIGHT = 8;
    public static final int WIDTH = 8;
    public static final int NUM_ELEMS = BATCH * CHANNELS * HEIGHT * WIDTH;

    /** A noise source that must not be used: a deterministic sampler that draws noise fails the test. */
    public static final NoiseSource NO_NOISE = new NoiseSource() {
        @Override
        public float[] randn(int n) {
            throw new AssertionError("no noise expected");
        }

        @Override
        public long seed() {
            return 0;
        }
    };

    private DiffusersFixtures() {
    }

    /**
     * {@code dummy_sample_deter}: {@code arange(768).reshape(3, 8, 8, 4) / 768} permuted to
     * (4, 3, 8, 8), so element [b, c, h, w] = (c*256 + h*32 + w*4 + b) / 768.
     */
    public static float[] dummySampleDeter() {
        float[] out = new float[NUM_ELEMS];
        for (int b = 0; b < BATCH; b++) {
            for (int c = 0; c < CHANNELS; c++) {
                for (int h = 0; h < HEIGHT; h++) {
                    for (int w = 0; w < WIDTH; w++) {
                        int k = c * 256 + h * 32 + w * 4 + b;
                        out[index(b, c, h, w)] = (float) k / (float) NUM_ELEMS;
                    }
                }
            }
        }
        return out;
    }

    /** {@code dummy_noise_deter}: the same with {@code arange(768).flip(-1)}: (767 - k) / 768. */
    public static float[] dummyNoiseDeter() {
        float[] out = new float[NUM_ELEMS];
        for (int b = 0; b < BATCH; b++) {
            for (int c = 0; c < CHANNELS; c++) {
                for (int h = 0; h < HEIGHT; h++) {
                    for (int w = 0; w < WIDTH; w++) {
                        int k = NUM_ELEMS - 1 - (c * 256 + h * 32 + w * 4 + b);
                        out[index(b, c, h, w)] = (float) k / (float) NUM_ELEMS;
                    }
                }
            }
        }
        return out;
    }

    /** The flat NCHW index of element [b, c, h, w] of a 4x3x8x8 tensor. */
    public static int index(int b, int c, int h, int w) {
        return ((b * CHANNELS + c) * HEIGHT + h) * WIDTH + w;
    }

    /** {@code dummy_model()}: {@code sample * t / (t + 1)} with t a float32 (or int64) scalar tensor. */
    public static float[] dummyModel(float[] sample, double t) {
        float tf = (float) t;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (sample[i] * tf) / (tf + 1f);
        }
        return out;
    }

    /**
     * {@code dummy_model()} with t a 0-d float64 tensor: the product in float32 (a 0-d tensor does not
     * promote a float32 one), {@code t + 1} in float64 and then rounded for the float32 division.
     */
    public static float[] dummyModelFloat64(float[] sample, double t) {
        float tf = (float) t;
        float tPlusOne = (float) (t + 1.0);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (sample[i] * tf) / tPlusOne;
        }
        return out;
    }

    /** {@link #dummyModel} (float32 timesteps) as a {@link Denoiser} over the whole 4x3x8x8 batch. */
    public static Denoiser dummyDenoiser() {
        return new FixtureDenoiser(false);
    }

    /** {@link #dummyModelFloat64} (float64 timesteps) as a {@link Denoiser} over the whole 4x3x8x8 batch. */
    public static Denoiser dummyDenoiserFloat64() {
        return new FixtureDenoiser(true);
    }

    /**
     * diffusers' test config for the k-diffusion style schedulers: 1100 train steps, linear betas
     * 0.0001..0.02, plus the extra key/value pairs (which may override those).
     */
    public static SchedulerConfig testConfig(Object... extra) {
        Map<String, Object> m = new HashMap<>();
        m.put("num_train_timesteps", 1100);
        m.put("beta_start", 0.0001);
        m.put("beta_end", 0.02);
        m.put("beta_schedule", "linear");
        putPairs(m, extra);
        return new SchedulerConfig(m);
    }

    /** A config from alternating keys and values, nothing else set. */
    public static SchedulerConfig config(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        putPairs(m, keyValues);
        return new SchedulerConfig(m);
    }

    /** {@code x * s} element-wise in float32 (s rounded to float32 first, as torch does for a Python float). */
    public static float[] times(float[] x, double s) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * (float) s;
        }
        return out;
    }

    /** {@code torch.sum(torch.abs(x))}, accumulated in double. */
    public static double absSum(float[] x) {
        double s = 0;
        for (float v : x) {
            s += Math.abs(v);
        }
        return s;
    }

    /** {@code torch.mean(torch.abs(x))}, accumulated in double. */
    public static double absMean(float[] x) {
        return absSum(x) / x.length;
    }

    private static void putPairs(Map<String, Object> m, Object[] keyValues) {
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
    }

    private static final class FixtureDenoiser implements Denoiser {
        private final boolean float64Timesteps;

        FixtureDenoiser(boolean float64Timesteps) {
            this.float64Timesteps = float64Timesteps;
        }

        @Override
        public float[] predict(float[] modelInput, double timestep) {
            return float64Timesteps ? dummyModelFloat64(modelInput, timestep) : dummyModel(modelInput, timestep);
        }

        @Override
        public int[] latentShape() {
            return new int[] {BATCH, CHANNELS, HEIGHT, WIDTH};
        }
    }
}
