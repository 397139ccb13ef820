package io.jdiffusion.samplers.euler_a;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiserFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import io.jdiffusion.samplers.testkit.CountingNoise;
import io.jdiffusion.samplers.testkit.GaussianWorld;
import io.jdiffusion.samplers.testkit.JavaNoise;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plan against values derived from the definitions, the loop's contract, and the Gaussian-world check. */
class EulerAncestralSamplerTest {
    private final EulerAncestralSampler sampler = new EulerAncestralSampler();

    /** SD 1.5's sigmas in double precision, from the definition alone. */
    static double[] sd15SigmasDouble() {
        int n = 1000;
        double a = Math.sqrt(0.00085);
        double b = Math.sqrt(0.012);
        double[] sigmas = new double[n];
        double cumprod = 1;
        for (int i = 0; i < n; i++) {
            double beta = Math.pow(a + (b - a) * i / (n - 1), 2);
            cumprod *= 1 - beta;
            sigmas[i] = Math.sqrt((1 - cumprod) / cumprod);
        }
        return sigmas;
    }

    static double interpDouble(double t, double[] sigmas) {
        int lo = (int) Math.floor(t);
        if (lo >= sigmas.length - 1) {
            return sigmas[sigmas.length - 1];
        }
        return sigmas[lo] + (t - lo) * (sigmas[lo + 1] - sigmas[lo]);
    }

    @Test
    void sd15TwentyStepsLinspace() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        assertEquals(20, plan.steps());
        assertEquals(21, plan.sigmas().length);
        assertEquals(1, plan.order());
        // timesteps: np.linspace(0, 999, 20, dtype=np.float32)[::-1] (EulerAncestralDiscreteScheduler's default
        // spacing is linspace; SD 1.5's config names none)
        for (int k = 0; k < 20; k++) {
            double expected = k == 0 ? 999.0 : (float) ((19 - k) * (999.0 / 19));
            assertEquals(expected, plan.timesteps()[k], 0.0, "timestep " + k);
        }
        // sigmas: np.interp of sqrt((1 - abar) / abar) at those timesteps, then float32, final 0
        double[] exact = sd15SigmasDouble();
        for (int k = 0; k < 20; k++) {
            double expected = interpDouble(plan.timesteps()[k], exact);
            assertEquals(expected, plan.sigmas()[k], expected * 1e-4, "sigma " + k);
            assertEquals(plan.sigmas()[k], (float) plan.sigmas()[k], 0.0, "float32 sigma " + k);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        // The same 20 sigmas as ComfyUI's docs publish for the SD schedule ("normal", 20 steps, docs.comfy.org)
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < comfy.length; k++) {
            assertEquals(comfy[k], plan.sigmas()[k], 2e-4, "sigma " + k);
        }
        // linspace: init_noise_sigma = sigmas.max()
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
    }

    @Test
    void leadingSpacingAndZeroTerminalSnr() {
        SamplerPlan leading = sampler.plan(SchedulerConfig.sd15().with("timestep_spacing", "leading"), 20, null);
        for (int k = 0; k < 20; k++) {
            assertEquals(951 - 50 * k, leading.timesteps()[k], 0.0);
        }
        float max = (float) leading.sigmas()[0];
        assertEquals((float) Math.sqrt(max * max + 1f), leading.initNoiseSigma(), 0.0);

        // rescale_betas_zero_snr: alphas_cumprod[-1] = 2**-24, so the first sigma is sqrt((1 - 2^-24) / 2^-24)
        SchedulerConfig zsnr = SchedulerConfig.sd15().with("rescale_betas_zero_snr", true)
                .with("timestep_spacing", "trailing");
        SamplerPlan plan = sampler.plan(zsnr, 10, null);
        assertEquals(999.0, plan.timesteps()[0]);
        assertEquals(4096.0, plan.sigmas()[0], 1e-3);
        assertEquals(plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
    }

    @Test
    void refusesSchedulesAndSamplePrediction() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        assertTrue(!sampler.acceptsSchedule());
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(SchedulerConfig.sd15(), 10, new SamplerSettings(karras, Map.of())));
        // diffusers' EulerAncestralDiscreteScheduler has no use_karras_sigmas: the key is ignored
        SamplerPlan ignored = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 10, null);
        assertArrayEquals(sampler.plan(SchedulerConfig.sd15(), 10, null).sigmas(), ignored.sigmas());
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 10, null));
    }

    @Test
    void sampleIsThePipelineLoopWithOneDrawPerStep() {
        SchedulerConfig cfg = config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02);
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        // diffusers' pipelines: latent_model_input = scale_model_input(latents, t); latents = step(model(...), t, latents)
        EulerAncestralSampler.Stepper stepper = new EulerAncestralSampler.Stepper(plan);
        float[] expected = start.clone();
        float[] scaled = new float[expected.length];
        TorchCpuGenerator reference = new TorchCpuGenerator(42);
        for (int i = 3; i < plan.steps(); i++) {
            stepper.scaleModelInput(expected, i, scaled);
            stepper.step(dummyModelFloat64(scaled, plan.timesteps()[i]), i, expected, reference);
        }
        List<int[]> reports = new ArrayList<>();
        CountingNoise counting = new CountingNoise(0f) {
            private final TorchCpuGenerator inner = new TorchCpuGenerator(42);

            @Override
            public float[] randn(int n) {
                super.randn(n);
                return inner.randn(n);
            }
        };
        float[] got = sampler.sample(dummyDenoiserFloat64(), start, plan, 3, counting,
                (done, total) -> reports.add(new int[] {done, total}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        // one randn of the latent size per step, the last step (sigma_up = 0) included, as diffusers draws
        assertEquals(List.of(768, 768, 768, 768, 768, 768, 768), counting.draws);
        assertEquals(7, reports.size());
        assertArrayEquals(new int[] {4, 10}, reports.get(0));
        assertArrayEquals(new int[] {10, 10}, reports.get(6));
    }

    @Test
    void oneStepByHand() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, null);
        float[] x = {1f, -2f};
        CountingNoise noise = new CountingNoise(0.5f);
        float[] out = sampler.sample(new FixedModel(new float[] {0.1f, 0.3f}), x, plan, 8, noise, null);
        // step 8 -> 9 then 9 -> 0, in double: x0 = x - sigma * eps; d = (x - x0) / sigma = eps
        double s8 = plan.sigmas()[8];
        double s9 = plan.sigmas()[9];
        double up = Math.sqrt(s9 * s9 * (s8 * s8 - s9 * s9) / (s8 * s8));
        double down = Math.sqrt(s9 * s9 - up * up);
        double[] eps = {0.1, 0.3};
        for (int j = 0; j < 2; j++) {
            double y = x[j] + eps[j] * (down - s8) + 0.5 * up;
            y = y + eps[j] * (0 - s9) + 0.5 * 0;
            assertEquals(y, out[j], 1e-5);
        }
    }

    @Test
    void etaZeroIsEulerAndDrawsNothing() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 12, new SamplerSettings(null, Map.of("eta", 0.0)));
        GaussianWorld world = new GaussianWorld(0.3, 0.8);
        Map<Double, Double> sigmaOfT = sigmaOfT(plan);
        float[] x = {-20f, -3f, 0f, 5f, 17f};
        float[] got = sampler.sample(world.model(PredictionType.EPSILON, sigmaOfT), x, plan, 0, NO_NOISE, null);
        // Euler's method (k-diffusion sample_euler) by hand in double on the same model
        for (int j = 0; j < x.length; j++) {
            double y = x[j];
            for (int i = 0; i < plan.steps(); i++) {
                double s = plan.sigmas()[i];
                double d = (y - world.denoise(y, s)) / s;
                y += d * (plan.sigmas()[i + 1] - s);
            }
            assertEquals(y, got[j], 2e-5 * Math.max(1, Math.abs(y)));
        }
    }

    /**
     * The law of the discrete ancestral chain on the Gaussian world, in double: with {@code y = x - mu} each
     * step is linear, {@code y' = A y + sigma_up z} with {@code A = 1 + sigma (sigma_down - sigma) / (s^2 + sigma^2)},
     * so the mean stays {@code mu} and the variance follows {@code V' = A^2 V + sigma_up^2}.
     */
    static double predictedStd(double[] sigmas, double s) {
        double v = s * s + sigmas[0] * sigmas[0];
        for (int i = 0; i + 1 < sigmas.length; i++) {
            double from = sigmas[i];
            double to = sigmas[i + 1];
            double up = Math.sqrt(to * to * (from * from - to * to) / (from * from));
            double down = Math.sqrt(to * to - up * up);
            double a = 1 + from * (down - from) / (s * s + from * from);
            v = a * a * v + up * up;
        }
        return Math.sqrt(v);
    }

    @Test
    void ancestralSamplingHasTheLawOfTheDiscreteChain() {
        // x_T drawn from the exact marginal N(mu, s^2 + sigma_max^2); with the exact denoiser the chain stays
        // Gaussian with mean mu and the variance of predictedStd, which tends to s as steps grow
        GaussianWorld world = new GaussianWorld(0.5, 0.7);
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 30, null);
        double sigmaMax = plan.sigmas()[0];
        int n = 40_000;
        java.util.Random random = new java.util.Random(7);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (world.mu + Math.sqrt(world.s * world.s + sigmaMax * sigmaMax) * random.nextGaussian());
        }
        float[] out = sampler.sample(world.model(PredictionType.EPSILON, sigmaOfT(plan)), x, plan, 0,
                new JavaNoise(11), null);
        double mean = 0;
        for (float v : out) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (float v : out) {
            var += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(var / (n - 1));
        double expectedStd = predictedStd(plan.sigmas(), world.s);
        // standard errors: mean 0.62 / 200 = 0.0031, std 0.62 / sqrt(2 n) = 0.0022; 4 of them
        assertEquals(world.mu, mean, 0.0125, "mean");
        assertEquals(expectedStd, std, 0.009, "std");
        // 30 steps lose about 11% of the spread; the chain's law converges to the data's
        assertEquals(0.6236, expectedStd, 1e-3);
        SamplerPlan fine = sampler.plan(SchedulerConfig.sd15(), 1000, null);
        assertEquals(world.s, predictedStd(fine.sigmas(), world.s), 0.01 * world.s);
    }

    @Test
    void sNoiseScalesTheAncestralNoise() {
        SamplerPlan plain = sampler.plan(SchedulerConfig.sd15(), 5, null);
        SamplerPlan doubled = sampler.plan(SchedulerConfig.sd15(), 5, new SamplerSettings(null, Map.of("s_noise", 2.0)));
        float[] x = {1f};
        FixedModel zero = new FixedModel(new float[] {0f});
        float a = sampler.sample(zero, x, plain, 3, new CountingNoise(1f), null)[0];
        float b = sampler.sample(zero, x, doubled, 3, new CountingNoise(1f), null)[0];
        // eps = 0: x moves only by the noise, sigma_up of step 3 (step 4 ends at 0 with sigma_up 0)
        double s3 = plain.sigmas()[3];
        double s4 = plain.sigmas()[4];
        double up = Math.sqrt(s4 * s4 * (s3 * s3 - s4 * s4) / (s3 * s3));
        assertEquals(1 + up, a, 1e-5);
        assertEquals(1 + 2 * up, b, 1e-5);
    }

    @Test
    void addNoiseIsSigmaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
    }

    @Test
    void declaresItsParameters() {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("eta", "s_noise"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(1.0, specs.get(0).defaultValue());
        assertEquals(1.0, specs.get(1).defaultValue());
    }

    @Test
    void isADeclarativeServicesComponentNamedEulerA() throws IOException {
        try (InputStream in = getClass().getResourceAsStream(
                "/OSGI-INF/io.jdiffusion.samplers.euler_a.EulerAncestralSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"euler_a\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"Euler a\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }

    private static Map<Double, Double> sigmaOfT(SamplerPlan plan) {
        Map<Double, Double> m = new HashMap<>();
        for (int i = 0; i < plan.steps(); i++) {
            m.put(plan.timesteps()[i], plan.sigmas()[i]);
        }
        return m;
    }

    private record FixedModel(float[] value) implements io.jdiffusion.api.Denoiser {
        @Override
        public float[] predict(float[] modelInput, double timestep) {
            return value.clone();
        }

        @Override
        public int[] latentShape() {
            return new int[] {1, value.length};
        }
    }
}
