package io.jdiffusion.samplers.lcm;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.Gaussians.gaussian;
import static io.jdiffusion.samplers.testkit.Gaussians.mean;
import static io.jdiffusion.samplers.testkit.Gaussians.variance;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.samplers.testkit.ConstantModel;
import io.jdiffusion.samplers.testkit.GaussianWorld;
import io.jdiffusion.samplers.testkit.JavaNoise;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * LCM timesteps from the definition, the step against the LCM formulas in double, and the
 * distribution it samples on a Gaussian data distribution, both with the exact consistency
 * function (what an LCM-distilled model learns: the probability-flow ODE's end point) and with the
 * exact ordinary model (the posterior mean E[x_0 | x_t]), against the closed-form moments of each
 * linear-Gaussian chain.
 */
class LcmSamplerTest {
    private final LcmSampler sampler = new LcmSampler();

    @Test
    void timestepsOfTheDistillationSchedule() {
        SchedulerConfig sd = SchedulerConfig.sd15();
        // k = 1000 // 50 = 20: 999, 979, ..., 19, at indices floor(linspace(0, 50, steps, endpoint=False))
        assertArrayEquals(new double[] {999, 759, 499, 259}, sampler.plan(sd, 4, null).timesteps());
        assertArrayEquals(new double[] {999, 879, 759, 639, 499, 379, 259, 139}, sampler.plan(sd, 8, null).timesteps());
        assertArrayEquals(new double[] {999}, sampler.plan(sd, 1, null).timesteps());
        // steps_offset and timestep_spacing are ignored, as in diffusers
        assertArrayEquals(new double[] {999, 759, 499, 259},
                sampler.plan(sd.with("timestep_spacing", "trailing"), 4, null).timesteps());
        // original_inference_steps 100: k = 10, 999, 989, ..., 9
        assertArrayEquals(new double[] {999, 749, 499, 249},
                sampler.plan(sd.with("original_inference_steps", 100), 4, null).timesteps());
        SamplerPlan plan = sampler.plan(sd, 4, SamplerSettings.DEFAULT);
        assertNull(plan.sigmas());
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
        assertFalse(sampler.acceptsSchedule());
        assertTrue(sampler.parameters().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> sampler.plan(sd, 51, null));
        assertThrows(IllegalArgumentException.class, () -> sampler.plan(sd, 0, null));
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(sd.with("original_inference_steps", 1001), 4, null));
    }

    @Test
    void boundaryConditionScalings() {
        // c_skip = 0.25 / ((10 t)^2 + 0.25), c_out = 10 t / sqrt((10 t)^2 + 0.25)
        float[] c = LcmSampler.boundaryScalings(19, 10f);
        assertEquals(0.25 / (190.0 * 190 + 0.25), c[0], 1e-12);
        assertEquals(190 / Math.sqrt(190.0 * 190 + 0.25), c[1], 1e-7);
        float[] zero = LcmSampler.boundaryScalings(0, 10f);
        assertEquals(1f, zero[0]);
        assertEquals(0f, zero[1]);
    }

    @Test
    void stepMatchesTheLcmFormulasAndDrawsNoiseBetweenSteps() {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", "v_prediction");
        SamplerPlan plan = sampler.plan(cfg, 4, null);
        float[] x = {1f, -0.5f, 2f};
        float[] z = {0.3f, -1.2f, 0.7f};
        List<Integer> draws = new ArrayList<>();
        NoiseSource fixed = new NoiseSource() {
            @Override
            public float[] randn(int n) {
                draws.add(n);
                return z.clone();
            }

            @Override
            public long seed() {
                return 0;
            }
        };
        List<String> reports = new ArrayList<>();
        float[] got = sampler.sample(new ConstantModel(0.2f, 3), x, plan, 0, fixed, (d, t) -> reports.add(d + "/" + t));
        assertEquals(List.of(3, 3, 3), draws, "no draw after the last step");
        assertEquals(List.of("1/4", "2/4", "3/4", "4/4"), reports);
        float[] ac = cfg.alphasCumprod();
        double[] xs = {x[0], x[1], x[2]};
        for (int i = 0; i < 4; i++) {
            int t = (int) plan.timesteps()[i];
            double a = ac[t];
            double st = 10.0 * t;
            double cSkip = 0.25 / (st * st + 0.25);
            double cOut = st / Math.sqrt(st * st + 0.25);
            for (int j = 0; j < 3; j++) {
                double x0 = Math.sqrt(a) * xs[j] - Math.sqrt(1 - a) * 0.2;
                double denoised = cOut * x0 + cSkip * xs[j];
                if (i < 3) {
                    double ap = ac[(int) plan.timesteps()[i + 1]];
                    xs[j] = Math.sqrt(ap) * denoised + Math.sqrt(1 - ap) * z[j];
                } else {
                    xs[j] = denoised;
                }
            }
        }
        for (int j = 0; j < 3; j++) {
            assertEquals(xs[j], got[j], 1e-5 * Math.max(1, Math.abs(xs[j])));
        }
    }

    /**
     * Data N(0.5, 0.8^2) on SD 1.5's alphas. Closed-form variance after 1, 2, 4, 8 steps: consistency
     * model 0.641, 0.640, 0.640, 0.640 (data 0.64); ordinary model 0.0019, 0.1015, 0.1895, 0.2358.
     */
    @Test
    void samplesTheDataWithAConsistencyModelAndBlursWithAnOrdinaryOne() {
        double mu = 0.5;
        double s = 0.8;
        SchedulerConfig cfg = SchedulerConfig.sd15();
        float[] ac = cfg.alphasCumprod();
        GaussianWorld world = new GaussianWorld(mu, s, ac);
        int n = 20000;
        for (int steps : new int[] {1, 2, 4, 8}) {
            SamplerPlan plan = sampler.plan(cfg, steps, null);
            for (boolean consistency : new boolean[] {true, false}) {
                float[] x = gaussian(n, 21);
                Denoiser model = consistency ? consistencyModel(world, ac, n) : world.model(PredictionType.EPSILON, n);
                float[] out = sampler.sample(model, x, plan, 0, new JavaNoise(22), null);
                double[] expected = chainMoments(world, ac, plan.timesteps(), consistency);
                double mean = mean(out);
                double var = variance(out, mean);
                String what = (consistency ? "consistency" : "ordinary") + " model, " + steps + " steps";
                assertEquals(expected[0], mean, 0.03, what + " mean");
                assertEquals(expected[1], var, 0.035, what + " variance");
                if (consistency) {
                    // an LCM-distilled model: the data distribution, in any number of steps
                    assertEquals(mu, expected[0], 0.03, what);
                    assertEquals(s * s, expected[1], 0.01, what);
                } else {
                    // an ordinary model: each step jumps to the posterior mean, so detail (variance) is lost
                    assertTrue(expected[1] < 0.8 * s * s, what + " variance " + expected[1]);
                }
            }
        }
    }

    /** Mean and variance after the LCM chain from x_T ~ N(0, 1), in double. */
    private static double[] chainMoments(GaussianWorld w, float[] ac, double[] timesteps, boolean consistency) {
        double m = 0;
        double v = 1;
        for (int i = 0; i < timesteps.length; i++) {
            int t = (int) timesteps[i];
            double a = ac[t];
            double st = 10.0 * t;
            double cSkip = 0.25 / (st * st + 0.25);
            double cOut = st / Math.sqrt(st * st + 0.25);
            // x0_hat = mu + gain (x - sqrt(a) mu)
            double gain = consistency ? w.s / Math.sqrt(a * w.s * w.s + 1 - a)
                    : Math.sqrt(a) * w.s * w.s / (a * w.s * w.s + 1 - a);
            double md = cOut * (w.mu + gain * (m - Math.sqrt(a) * w.mu)) + cSkip * m;
            double vd = (cOut * gain + cSkip) * (cOut * gain + cSkip) * v;
            if (i + 1 < timesteps.length) {
                double ap = ac[(int) timesteps[i + 1]];
                m = Math.sqrt(ap) * md;
                v = ap * vd + (1 - ap);
            } else {
                m = md;
                v = vd;
            }
        }
        return new double[] {m, v};
    }

    /**
     * The exact consistency function of the Gaussian world, as an epsilon model: it maps x_t to the
     * end of its probability-flow trajectory, {@code f(x) = mu + s (x - sqrt(a) mu) / sqrt(a s^2 + 1 - a)},
     * and answers the epsilon for which the scheduler's x_0 is f(x).
     */
    private static Denoiser consistencyModel(GaussianWorld w, float[] ac, int n) {
        return new Denoiser() {
            @Override
            public float[] predict(float[] x, double timestep) {
                double a = ac[(int) timestep];
                float[] out = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    double f = w.mu + w.s * (x[i] - Math.sqrt(a) * w.mu) / Math.sqrt(a * w.s * w.s + 1 - a);
                    out[i] = (float) ((x[i] - Math.sqrt(a) * f) / Math.sqrt(1 - a));
                }
                return out;
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, n};
            }
        };
    }

    @Test
    void addNoiseIsAlphaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 4, null);
        float a = SchedulerConfig.sd15().alphasCumprod()[(int) plan.timesteps()[1]];
        float[] noisy = sampler.addNoise(new float[] {1f, -2f}, new float[] {0.5f, 0.25f}, plan, 1);
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        assertArrayEquals(new float[] {sa * 1f + sb * 0.5f, sa * -2f + sb * 0.25f}, noisy);
    }

    @Test
    void clipsOnlyWhenAsked() {
        SchedulerConfig cfg = config("prediction_type", "sample");
        SamplerPlan plan = sampler.plan(cfg, 1, null);
        float[] out = sampler.sample(new ConstantModel(3f, 2), new float[] {0f, 0f}, plan, 0, null, null);
        float cOut = LcmSampler.boundaryScalings(999, 10f)[1];
        assertArrayEquals(new float[] {cOut * 3f, cOut * 3f}, out);
        SamplerPlan clipped = sampler.plan(cfg.with("clip_sample", true), 1, null);
        out = sampler.sample(new ConstantModel(3f, 2), new float[] {0f, 0f}, clipped, 0, null, null);
        assertArrayEquals(new float[] {cOut, cOut}, out);
    }

    @Test
    void isADeclarativeServicesComponentNamedLcm() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.lcm.LcmSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"lcm\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"LCM\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }

}
