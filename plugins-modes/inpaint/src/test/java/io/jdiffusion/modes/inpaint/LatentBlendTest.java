package io.jdiffusion.modes.inpaint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The blended prediction gives the original x0 where the mask keeps, the model's x0 where it repaints. */
class LatentBlendTest {
    private static final float[] ORIGINAL = {0.5f, -1f, 2f, 0.25f};
    private static final float[] MASK = {0f, 1f}; // per plane of 2: keep, repaint

    private static void check(String prediction, double timestep) {
        Map<String, Object> values = new HashMap<>(Map.of("prediction_type", prediction));
        SchedulerConfig sd = SchedulerConfig.sd15();
        for (String k : new String[] {"num_train_timesteps", "beta_start", "beta_end", "beta_schedule"}) {
            if (sd.has(k)) values.put(k, sd.values().get(k));
        }
        SchedulerConfig config = new SchedulerConfig(values);
        double sigma = Sigmas.interpIndex(timestep, Sigmas.fromAlphasCumprod(config.alphasCumprod()));
        double a = 1 / Math.sqrt(sigma * sigma + 1);
        double s = sigma * a;
        float[] modelOut = {0.3f, -0.7f, 1.1f, 0.05f};
        Denoiser model = new Denoiser() {
            public float[] predict(float[] x, double t) { return modelOut.clone(); }
            public int[] latentShape() { return new int[] {1, 2, 1, 2}; }
        };
        float[] x = {0.1f, 0.9f, -0.4f, 1.3f};
        float[] out = new LatentBlend(model, ORIGINAL, MASK, config).predict(x, timestep);
        for (int j = 0; j < x.length; j++) {
            double x0 = switch (prediction) {
                case "epsilon" -> (x[j] - s * out[j]) / a;
                case "v_prediction" -> a * x[j] - s * out[j];
                default -> out[j];
            };
            double expected = MASK[j % 2] == 0f ? ORIGINAL[j] : switch (prediction) {
                case "epsilon" -> (x[j] - s * modelOut[j]) / a;
                case "v_prediction" -> a * x[j] - s * modelOut[j];
                default -> modelOut[j];
            };
            assertEquals(expected, x0, 1e-4, prediction + " t=" + timestep + " at " + j);
        }
    }

    @Test
    void epsilonVAndSamplePredictions() {
        for (String p : new String[] {"epsilon", "v_prediction", "sample"}) {
            for (double t : new double[] {999, 500.5, 21, 1}) {
                check(p, t);
            }
        }
    }
}
