package io.jdiffusion.samplers.ddpm;

import io.jdiffusion.api.noise.TorchCpuGenerator;
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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Timesteps, the noise draws, the variance types, and the distribution DDPM produces on a Gaussian
 * data distribution with the exact model, against the closed-form moments of that linear-Gaussian
 * chain (DDPM's formulas (6), (7) of Ho et al. 2020, in double).
 */
class DdpmSamplerTest {
    private final DdpmSampler sampler = new DdpmSampler();

    @Test
    void sd15TwentySteps() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        // leading (DDPMScheduler's default): arange(20) * (1000 // 20), reversed, + steps_offset 1
        double[] expected = new double[20];
        for (int k = 0; k < 20; k++) {
            expected[k] = 951 - 50 * k;
        }
        assertArrayEquals(expected, plan.timesteps());
        assertNull(plan.sigmas());
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
        assertFalse(sampler.acceptsSchedule());
        assertTrue(sampler.parameters().isEmpty());
        assertArrayEquals(new double[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                sampler.plan(config("timestep_spacing", "linspace"), 10, null).timesteps());
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                sampler.plan(config("timestep_spacing", "trailing"), 10, null).timesteps());
        assertThrows(IllegalArgumentException.class, () -> sampler.plan(config(), 1001, null));
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(config("variance_type", "fixed_large_log"), 10, null));
    }

    @Test
    void drawsOneNoiseTensorPerStepAboveTimestepZero() {
        List<Integer> draws = new ArrayList<>();
        NoiseSource counting = new NoiseSource() {
            @Override
            public float[] randn(int n) {
                draws.add(n);
                return new float[n];
            }

            @Override
            public long seed() {
                return 1;
            }
        };
        // SD 1.5: the last timestep is 1, so every step draws (the last with variance 1e-20)
        SamplerPlan sd = sampler.plan(SchedulerConfig.sd15(), 5, null);
        sampler.sample(new ConstantModel(0.1f, 3), new float[3], sd, 0, counting, null);
        assertEquals(List.of(3, 3, 3, 3, 3), draws);
        draws.clear();
        // no offset: the last timestep is 0, which draws nothing
        SamplerPlan plain = sampler.plan(config("clip_sample", false), 5, null);
        assertEquals(0.0, plain.timesteps()[4]);
        List<String> reports = new ArrayList<>();
        sampler.sample(new ConstantModel(0.1f, 3), new float[3], plain, 2, counting, (d, t) -> reports.add(d + "/" + t));
        assertEquals(List.of(3, 3), draws);
        assertEquals(List.of("3/5", "4/5", "5/5"), reports);
    }

    @Test
    void stepMatchesFormulaSevenInDouble() {
        SchedulerConfig cfg = SchedulerConfig.sd15(); // clip_sample false
        SamplerPlan plan = sampler.plan(cfg, 20, null);
        float[] x = {1f, -0.5f, 2f};
        float[] z = {0.3f, -1.2f, 0.7f};
        NoiseSource fixed = new NoiseSource() {
            @Override
            public float[] randn(int n) {
                return z.clone();
            }

            @Override
            public long seed() {
                return 0;
            }
        };
        float[] got = sampler.sample(new ConstantModel(0.2f, 3), x, plan, 17, fixed, null);
        float[] ac = cfg.alphasCumprod();
        double[] xs = {x[0], x[1], x[2]};
        for (int i = 17; i < 20; i++) {
            int t = (int) plan.timesteps()[i];
            double a = ac[t];
            double ap = i + 1 < 20 ? ac[(int) plan.timesteps()[i + 1]] : 1.0;
            double beta = 1 - a / ap;
            double var = Math.max((1 - ap) / (1 - a) * beta, 1e-20);
            for (int j = 0; j < 3; j++) {
                double x0 = (xs[j] - Math.sqrt(1 - a) * 0.2) / Math.sqrt(a);
                double mean = Math.sqrt(ap) * beta / (1 - a) * x0 + Math.sqrt(1 - beta) * (1 - ap) / (1 - a) * xs[j];
                xs[j] = mean + Math.sqrt(var) * z[j];
            }
        }
        for (int j = 0; j < 3; j++) {
            assertEquals(xs[j], got[j], 1e-5 * Math.max(1, Math.abs(xs[j])));
        }
    }

    @Test
    void learnedVarianceTypesReduceToTheFixedOnes() {
        SchedulerConfig base = config("clip_sample", false);
        SamplerPlan plan = sampler.plan(base, 10, null);
        float[] x = {0.4f, -1.1f, 0.9f, 2.0f};
        // learned_range at frac 0 (predicted -1) is fixed_small, at frac 1 (predicted 1) fixed_large
        float[] small = run(base.with("variance_type", "fixed_small"), x, new ConstantModel(0.3f, 4));
        float[] large = run(base.with("variance_type", "fixed_large"), x, new ConstantModel(0.3f, 4));
        float[] rangeLow = run(base.with("variance_type", "learned_range"), x, withVariance(0.3f, -1f, 2, 2));
        float[] rangeHigh = run(base.with("variance_type", "learned_range"), x, withVariance(0.3f, 1f, 2, 2));
        assertArrayEquals(small, rangeLow, 1e-5f);
        assertArrayEquals(large, rangeHigh, 1e-5f);
        assertFalse(Arrays.equals(small, large));
        // fixed_small_log: exp(0.5 log v) is sqrt(v)
        assertArrayEquals(small, run(base.with("variance_type", "fixed_small_log"), x, new ConstantModel(0.3f, 4)), 1e-5f);
        // an unknown name keeps the posterior variance, as diffusers' _get_variance does
        assertArrayEquals(small, run(base.with("variance_type", "other"), x, new ConstantModel(0.3f, 4)));
        // a learned type on a model without the variance channels is refused
        assertThrows(IllegalStateException.class,
                () -> run(base.with("variance_type", "learned"), x, new ConstantModel(0.3f, 4)));
        assertNotNull(plan);
    }

    private float[] run(SchedulerConfig cfg, float[] x, Denoiser model) {
        SamplerPlan plan = sampler.plan(cfg, 10, null);
        return sampler.sample(model, x, plan, 0, new TorchCpuGenerator(3), null);
    }

    @Test
    void samplesTheGaussianChainItsFormulasDefine() {
        double mu = 0.5;
        double s = 0.8;
        for (PredictionType type : new PredictionType[] {PredictionType.EPSILON, PredictionType.V_PREDICTION,
            PredictionType.SAMPLE}) {
            SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", type.configName());
            GaussianWorld world = new GaussianWorld(mu, s, cfg.alphasCumprod());
            int n = 20000;
            int steps = 50;
            SamplerPlan plan = sampler.plan(cfg, steps, null);
            float[] x = gaussian(n, 11);
            float[] out = sampler.sample(world.model(type, n), x, plan, 0, new JavaNoise(12), null);
            double[] expected = chainMoments(world, cfg.alphasCumprod(), plan.timesteps());
            double mean = mean(out);
            double var = variance(out, mean);
            // sampling error: sd of the mean ~ 0.006, of the variance ~ 0.0065
            assertEquals(expected[0], mean, 0.03, type + " mean");
            assertEquals(expected[1], var, 0.035, type + " variance");
        }
        // and that chain approaches the data distribution as the steps grow
        SchedulerConfig cfg = SchedulerConfig.sd15();
        GaussianWorld world = new GaussianWorld(mu, s, cfg.alphasCumprod());
        double[] at1000 = chainMoments(world, cfg.alphasCumprod(),
                sampler.plan(cfg.with("steps_offset", 0), 1000, null).timesteps());
        // (to about 1%, not exactly: x_T ~ N(0, 1) is not quite the marginal at t = 999, where SD's ᾱ is
        // 0.0047; fixed_small's variance leaves out Var(x_0 | x_t), and the last step returns E[x_0 | x_0]
        // at ᾱ_0 = 0.99915. Here: mean 0.4985, variance 0.6333 for 0.5, 0.64.)
        assertEquals(mu, at1000[0], 5e-3, "mean after 1000 steps");
        assertEquals(s * s, at1000[1], 1e-2, "variance after 1000 steps");
    }

    /**
     * Mean and variance after the DDPM chain from x_T ~ N(0, 1), in double: with the exact model
     * {@code x0_hat = mu + (sqrt(a) s^2 / (a s^2 + 1 - a)) (x - sqrt(a) mu)}, each step is
     * {@code x' = c0 x0_hat + cs x + sqrt(var) z}.
     */
    private static double[] chainMoments(GaussianWorld w, float[] ac, double[] timesteps) {
        double m = 0;
        double v = 1;
        for (int i = 0; i < timesteps.length; i++) {
            int t = (int) timesteps[i];
            double a = ac[t];
            double ap = i + 1 < timesteps.length ? ac[(int) timesteps[i + 1]] : 1.0;
            double beta = 1 - a / ap;
            double var = t > 0 ? Math.max((1 - ap) / (1 - a) * beta, 1e-20) : 0;
            double gain = Math.sqrt(a) * w.s * w.s / (a * w.s * w.s + 1 - a);
            double c0 = Math.sqrt(ap) * beta / (1 - a);
            double cs = Math.sqrt(1 - beta) * (1 - ap) / (1 - a);
            double x0Mean = w.mu + gain * (m - Math.sqrt(a) * w.mu);
            m = c0 * x0Mean + cs * m;
            v = (c0 * gain + cs) * (c0 * gain + cs) * v + var;
        }
        return new double[] {m, v};
    }

    @Test
    void addNoiseIsAlphaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float a = SchedulerConfig.sd15().alphasCumprod()[(int) plan.timesteps()[4]];
        float[] noisy = sampler.addNoise(new float[] {1f, -2f}, new float[] {0.5f, 0.25f}, plan, 4);
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        assertArrayEquals(new float[] {sa * 1f + sb * 0.5f, sa * -2f + sb * 0.25f}, noisy);
    }

    @Test
    void isADeclarativeServicesComponentNamedDdpm() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.ddpm.DdpmSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"ddpm\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DDPM\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }

    /** A [1, 2C, n] output: C channels of {@code value}, then C channels of predicted variance. */
    private static Denoiser withVariance(float value, float predictedVariance, int channels, int perChannel) {
        return new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                float[] out = new float[2 * channels * perChannel];
                Arrays.fill(out, 0, channels * perChannel, value);
                Arrays.fill(out, channels * perChannel, out.length, predictedVariance);
                return out;
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, channels, perChannel};
            }
        };
    }
}
