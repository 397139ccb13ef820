package io.jdiffusion.samplers.euler;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import io.jdiffusion.samplers.testkit.ConstantModel;
import io.jdiffusion.samplers.testkit.CountingNoise;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Timesteps and sigmas against values derived independently of the sampler, and the loop's own contract. */
class EulerSamplerTest {
    private final EulerSampler sampler = new EulerSampler();

    /** SD 1.5's betas, alphas_cumprod and sigmas in double precision, from the definition alone. */
    private static double[] sd15SigmasDouble() {
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

    private static double interpDouble(double t, double[] sigmas) {
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
        // timesteps: np.linspace(0, 999, 20)[::-1] as float32 (EulerDiscreteScheduler's default spacing)
        for (int k = 0; k < 20; k++) {
            double expected = k == 0 ? 999.0 : (float) ((19 - k) * (999.0 / 19));
            assertEquals(expected, plan.timesteps()[k], 0.0, "timestep " + k);
        }
        // sigmas: linear interpolation of sqrt((1 - abar) / abar) at those timesteps, final 0. diffusers holds
        // 1 - beta in float32, which costs up to ~4e-5 relative in the smallest sigmas
        double[] exact = sd15SigmasDouble();
        for (int k = 0; k < 20; k++) {
            double expected = interpDouble(plan.timesteps()[k], exact);
            assertEquals(expected, plan.sigmas()[k], expected * 1e-4, "sigma " + k);
            assertEquals(plan.sigmas()[k], (float) plan.sigmas()[k], 0.0, "float32 sigma " + k);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        // The same 20 sigmas as published for the SD/SDXL schedule by ComfyUI's docs ("normal" scheduler,
        // 20 steps, docs.comfy.org); ComfyUI interpolates in log sigma, so they agree to about 1e-4.
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < comfy.length; k++) {
            assertEquals(comfy[k], plan.sigmas()[k], 2e-4, "sigma " + k);
        }
        // linspace: init_noise_sigma is the largest sigma
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
        assertEquals(14.6146, plan.initNoiseSigma(), 1e-4);
    }

    @Test
    void sd15LeadingSpacingUsesStepsOffset() {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("timestep_spacing", "leading");
        SamplerPlan plan = sampler.plan(cfg, 20, SamplerSettings.DEFAULT);
        for (int k = 0; k < 20; k++) {
            assertEquals(951 - 50 * k, plan.timesteps()[k], 0.0);
        }
        double[] exact = sd15SigmasDouble();
        assertEquals(exact[951], plan.sigmas()[0], exact[951] * 1e-4);
        assertEquals(exact[1], plan.sigmas()[19], exact[1] * 1e-4);
        // leading: init_noise_sigma = (max_sigma ** 2 + 1) ** 0.5
        float max = (float) plan.sigmas()[0];
        assertEquals((float) Math.sqrt(max * max + 1f), plan.initNoiseSigma(), 0.0);
    }

    @Test
    void timestepSpacingsOfTable2() {
        // "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2: 1000 train steps, 10 steps
        SchedulerConfig base = config("num_train_timesteps", 1000);
        double[] linspace = {999, 888, 777, 666, 555, 444, 333, 222, 111, 0};
        double[] leading = {900, 800, 700, 600, 500, 400, 300, 200, 100, 0};
        double[] trailing = {999, 899, 799, 699, 599, 499, 399, 299, 199, 99};
        assertArrayEquals(linspace, sampler.plan(base, 10, null).timesteps());
        assertArrayEquals(leading, sampler.plan(base.with("timestep_spacing", "leading"), 10, null).timesteps());
        assertArrayEquals(trailing, sampler.plan(base.with("timestep_spacing", "trailing"), 10, null).timesteps());
        // trailing with a step ratio that is not whole: round(arange(1000, 0, -1000/7)) - 1
        assertArrayEquals(new double[] {999, 856, 713, 570, 428, 285, 142},
                sampler.plan(base.with("timestep_spacing", "trailing"), 7, null).timesteps());
    }

    @Test
    void karrasScheduleMapsSigmasBackToTimesteps() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan plain = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, new SamplerSettings(karras, Map.of()));
        double sigmaMax = plain.sigmas()[0];
        double sigmaMin = plain.sigmas()[19];
        double rho = 7.0;
        for (int i = 0; i < 20; i++) {
            double ramp = i / 19.0;
            double expected = Math.pow(Math.pow(sigmaMax, 1 / rho) + ramp * (Math.pow(sigmaMin, 1 / rho)
                    - Math.pow(sigmaMax, 1 / rho)), rho);
            assertEquals(expected, plan.sigmas()[i], expected * 1e-6, "sigma " + i);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        assertEquals(999.0, plan.timesteps()[0], 1e-3);
        assertEquals(0.0, plan.timesteps()[19], 1e-3);
        // each timestep is where the training sigmas reach that sigma (log-linear between neighbours)
        double[] exact = sd15SigmasDouble();
        for (int i = 1; i < 19; i++) {
            double t = plan.timesteps()[i];
            int lo = (int) Math.floor(t);
            double w = t - lo;
            double logSigma = (1 - w) * Math.log(exact[lo]) + w * Math.log(exact[lo + 1]);
            assertEquals(Math.log(plan.sigmas()[i]), logSigma, 1e-5, "timestep " + i);
        }
        // the config's use_karras_sigmas gives the same plan
        SamplerPlan fromConfig = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 20, null);
        assertArrayEquals(plan.sigmas(), fromConfig.sigmas());
        assertArrayEquals(plan.timesteps(), fromConfig.timesteps());
    }

    @Test
    void sigmaToTInvertsTheTrainingSigmas() {
        float[] sigmas = Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod());
        float[] logSigmas = Sigmas.logFloat32(sigmas);
        for (int k : new int[] {0, 1, 10, 250, 500, 998, 999}) {
            assertEquals(k, Sigmas.sigmaToT(sigmas[k], logSigmas), 1e-3, "t " + k);
        }
        assertEquals(0.0, Sigmas.sigmaToT(1e-6, logSigmas), 0.0);
        assertEquals(999.0, Sigmas.sigmaToT(1e6, logSigmas), 0.0);
    }

    @Test
    void numpyInterpAndLinspace() {
        float[] fp = {0f, 1f, 4f, 9f};
        assertEquals(0.0, Sigmas.interpIndex(-1, fp));
        assertEquals(2.5, Sigmas.interpIndex(1.5, fp));
        assertEquals(9.0, Sigmas.interpIndex(3, fp));
        assertEquals(9.0, Sigmas.interpIndex(7, fp));
        assertEquals(3.5, Sigmas.interp(1.5, new double[] {0, 1, 3}, new double[] {0, 2, 8}));
        assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, Sigmas.linspace(0, 1, 5));
        assertArrayEquals(new double[] {3}, Sigmas.linspace(3, 7, 1));
        assertEquals(2.0, Sigmas.round(2.5));
        assertEquals(4.0, Sigmas.round(3.5));
    }

    @Test
    void sampleIsThePipelineLoopOfScaleAndStep() {
        SchedulerConfig cfg = config("num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02);
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        // diffusers' pipelines: latent_model_input = scale_model_input(latents, t); latents = step(model(...), t, latents)
        EulerSampler.Stepper stepper = new EulerSampler.Stepper(plan);
        float[] expected = start.clone();
        float[] scaled = new float[expected.length];
        for (int i = 3; i < plan.steps(); i++) {
            stepper.scaleModelInput(expected, i, scaled);
            stepper.step(dummyModel(scaled, plan.timesteps()[i]), i, expected, null);
        }
        List<int[]> reports = new ArrayList<>();
        float[] got = sampler.sample(dummyDenoiser(), start, plan, 3, null, (done, total) -> reports.add(new int[] {done, total}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(7, reports.size());
        assertArrayEquals(new int[] {4, 10}, reports.get(0));
        assertArrayEquals(new int[] {10, 10}, reports.get(6));
    }

    @Test
    void churnDrawsNoiseWhereDiffusersDoes() {
        SchedulerConfig cfg = SchedulerConfig.sd15();
        int steps = 10;
        CountingNoise noise = new CountingNoise(0.5f);
        SamplerPlan plan = sampler.plan(cfg, steps, new SamplerSettings(null, Map.of("s_churn", 1.0, "s_noise", 1.0)));
        float[] x = {1f, -2f, 0.25f};
        float[] out = sampler.sample(new ConstantModel(0.1f, x.length), x, plan, steps - 1, noise, null);
        assertEquals(List.of(3), noise.draws);
        // one step by hand in double: gamma = min(1 / 10, sqrt(2) - 1); model output of the constant model is 0.1
        double sigma = plan.sigmas()[steps - 1];
        double sigmaHat = sigma * 1.1;
        for (int j = 0; j < x.length; j++) {
            double xh = x[j] + 0.5 * Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
            double denoised = xh - sigmaHat * 0.1;
            double expected = xh + (xh - denoised) / sigmaHat * (plan.sigmas()[steps] - sigmaHat);
            assertEquals(expected, out[j], 1e-5);
        }

        // s_tmax below a step's sigma: no churn there, so no draw
        CountingNoise gated = new CountingNoise(0f);
        SamplerPlan tmax = sampler.plan(cfg, steps, new SamplerSettings(null, Map.of("s_churn", 1.0, "s_tmax", 1.0)));
        sampler.sample(new ConstantModel(0.1f, 3), x, tmax, 0, gated, null);
        long below = java.util.Arrays.stream(tmax.sigmas()).limit(steps).filter(s -> (float) s <= 1f).count();
        assertEquals(below, gated.draws.size());
        assertTrue(below > 0 && below < steps);

        // s_churn 0 (the default): deterministic, no draws at all
        sampler.sample(new ConstantModel(0.1f, 3), x, sampler.plan(cfg, steps, null), 0, new CountingNoise(0f) {
            @Override
            public float[] randn(int n) {
                throw new AssertionError("no draw expected");
            }
        }, null);
    }

    @Test
    void vPredictionAndSamplePredictionDenoiseToTheModelsX0() {
        // with a model that predicts x0 exactly, one Euler step to sigma 0 lands on x0
        float[] x0 = {0.5f, -0.25f};
        SamplerPlan samplePlan = sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 1, null);
        float[] x = {3f, 7f};
        float[] out = sampler.sample(new FixedModel(x0), x, samplePlan, 0, null, null);
        assertArrayEquals(x0, out, 1e-6f);
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
        assertEquals(List.of("s_churn", "s_tmin", "s_tmax", "s_noise"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(0.0, specs.get(0).defaultValue());
        assertEquals(0.0, specs.get(1).defaultValue());
        assertEquals(Double.POSITIVE_INFINITY, specs.get(2).defaultValue());
        assertEquals(1.0, specs.get(3).defaultValue());
    }

    @Test
    void isADeclarativeServicesComponentNamedEuler() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.euler.EulerSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"euler\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"Euler\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
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
