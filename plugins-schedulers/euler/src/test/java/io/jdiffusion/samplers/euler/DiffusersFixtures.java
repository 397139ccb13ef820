package io.jdiffusion.samplers.euler;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.SchedulerConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * The fixtures of diffusers' scheduler tests (tests/schedulers/test_schedulers.py,
 * SchedulerCommonTest): a deterministic 4x3x8x8 sample and noise, and the dummy model
 * {@code sample * t / (t + 1)}, all in float32 as torch computes them.
 */
final class DiffusersFixtures {
    static final int BATCH = 4;
    static final int CHANNELS = 3;
    static final int HEIGHT = 8;
    static final int WIDTH = 8;
    static final int NUM_ELEMS = BATCH * CHANNELS * HEIGHT * WIDTH;

    private DiffusersFixtures() {
    }

    /**
     * {@code dummy_sample_deter}: {@code arange(768).reshape(3, 8, 8, 4) / 768} permuted to
     * (4, 3, 8, 8), so element [b, c, h, w] = (c*256 + h*32 + w*4 + b) / 768.
     */
    static float[] dummySampleDeter() {
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
    static float[] dummyNoiseDeter() {
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

    static int index(int b, int c, int h, int w) {
        return ((b * CHANNELS + c) * HEIGHT + h) * WIDTH + w;
    }

    /** {@code dummy_model()}: {@code sample * t / (t + 1)} with t a float32 (or int64) scalar tensor. */
    static float[] dummyModel(float[] sample, double t) {
        float tf = (float) t;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (sample[i] * tf) / (tf + 1f);
        }
        return out;
    }

    /** The dummy model as a {@link Denoiser} over the whole 4x3x8x8 batch. */
    static Denoiser dummyDenoiser() {
        return new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                return dummyModel(modelInput, timestep);
            }

            @Override
            public int[] latentShape() {
                return new int[] {BATCH, CHANNELS, HEIGHT, WIDTH};
            }
        };
    }

    static SchedulerConfig config(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return new SchedulerConfig(m);
    }

    /** {@code torch.sum(torch.abs(x))}, accumulated in double. */
    static double absSum(float[] x) {
        double s = 0;
        for (float v : x) {
            s += Math.abs(v);
        }
        return s;
    }

    static double absMean(float[] x) {
        return absSum(x) / x.length;
    }
}
