package io.jdiffusion.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ᾱ-sampler helpers against hand-computed values. */
class AlphasTest {
    private static SchedulerConfig config(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return new SchedulerConfig(m);
    }

    @Test
    void discreteTimestepsOfTheThreeSpacings() {
        // "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2 (1000 train steps, 10 steps)
        SchedulerConfig c = config("num_train_timesteps", 1000);
        assertArrayEquals(new double[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0},
                Alphas.discreteTimesteps(c, 10, "leading"));
        assertArrayEquals(new double[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                Alphas.discreteTimesteps(c, 10, "linspace"));
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                Alphas.discreteTimesteps(c.with("timestep_spacing", "trailing"), 10, "leading"));
        // SD 1.5: leading + steps_offset 1
        assertArrayEquals(new double[] {751, 501, 251, 1}, Alphas.discreteTimesteps(SchedulerConfig.sd15(), 4, "leading"));
        // np.round half to even: linspace(0, 999, 3) = 0, 499.5, 999
        assertArrayEquals(new double[] {999, 500, 0}, Alphas.discreteTimesteps(c, 3, "linspace"));
        assertThrows(IllegalArgumentException.class, () -> Alphas.discreteTimesteps(c, 1001, "leading"));
        assertThrows(IllegalArgumentException.class, () -> Alphas.discreteTimesteps(c, 0, "leading"));
        // leading with steps_offset 1 and one step per train step reaches 1000: out of range
        assertThrows(IllegalArgumentException.class,
                () -> Alphas.discreteTimesteps(c.with("steps_offset", 1), 1000, "leading"));
    }

    @Test
    void addNoiseIsTheAlphaForm() {
        float a = 0.36f;
        float[] got = Alphas.addNoise(new float[] {1f, -2f}, new float[] {0.5f, 0.25f}, a);
        assertArrayEquals(new float[] {0.6f * 1f + 0.8f * 0.5f, 0.6f * -2f + 0.8f * 0.25f}, got, 1e-7f);
    }

    @Test
    void predictedOriginalOfEachPredictionType() {
        float a = 0.64f; // sqrt 0.8, sqrt(1 - a) 0.6
        float[] x = {1f, 2f};
        float[] out = {0.5f, -1f};
        float[] x0 = new float[2];
        Alphas.predictOriginal(PredictionType.EPSILON, x, out, a, x0);
        assertArrayEquals(new float[] {(1f - 0.6f * 0.5f) / 0.8f, (2f + 0.6f) / 0.8f}, x0, 1e-6f);
        Alphas.predictOriginal(PredictionType.V_PREDICTION, x, out, a, x0);
        assertArrayEquals(new float[] {0.8f - 0.3f, 1.6f + 0.6f}, x0, 1e-6f);
        Alphas.predictOriginal(PredictionType.SAMPLE, x, out, a, x0);
        assertArrayEquals(out, x0);
    }

    @Test
    void clipAndDynamicThreshold() {
        float[] x = {3f, -3f, 0.5f, 2f};
        Alphas.clipOrThreshold(x, 1, config("clip_sample_range", 2.0), true);
        assertArrayEquals(new float[] {2f, -2f, 0.5f, 2f}, x);
        float[] y = {3f, -3f, 0.5f, 2f};
        Alphas.clipOrThreshold(y, 1, config(), false);
        assertArrayEquals(new float[] {3f, -3f, 0.5f, 2f}, y);
        // s = clamp(quantile(|x0|, 0.5) = 2.5, 1, 2) = 2: clamp(x0, -2, 2) / 2
        Alphas.clipOrThreshold(y, 1, config("thresholding", true, "dynamic_thresholding_ratio", 0.5,
                "sample_max_value", 2.0), true);
        assertArrayEquals(new float[] {1f, -1f, 0.25f, 1f}, y);
        // per image: s = 3 for the first of two images, clamped up to 1 for the second
        float[] rows = {3f, 0.5f, 0.2f, 0.1f};
        Alphas.clipOrThreshold(rows, 2, config("thresholding", true, "dynamic_thresholding_ratio", 1.0,
                "sample_max_value", 10.0), true);
        assertArrayEquals(new float[] {1f, 0.5f / 3f, 0.2f, 0.1f}, rows);
    }
}
