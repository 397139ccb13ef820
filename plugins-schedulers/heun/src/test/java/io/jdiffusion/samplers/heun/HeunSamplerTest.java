package io.jdiffusion.samplers.heun;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiserFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import io.jdiffusion.samplers.testkit.DiffusersFixtures;
import io.jdiffusion.samplers.testkit.GaussianWorld;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plan and interleaving against values derived from diffusers' code, the loop's contract, and the Gaussian-world check. */
class HeunSamplerTest {
    private final HeunSampler sampler = new HeunSampler();

    @Test
    void sd15TwentyStepsArePlannedAsUserVisibleSteps() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        assertEquals(20, plan.steps());
        assertEquals(21, plan.sigmas().length);
        assertEquals(2, plan.order());
        // timesteps: np.linspace(0, 999, 20, dtype=np.float32)[::-1]; sigmas: np.interp at them, float32, final 0.
        // The same 20 sigmas as ComfyUI's docs publish for the SD schedule ("normal", 20 steps, docs.comfy.org)
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < 20; k++) {
            double expected = k == 0 ? 999.0 : (float) ((19 - k) * (999.0 / 19));
            assertEquals(expected, plan.timesteps()[k], 0.0, "timestep " + k);
            assertEquals(comfy[k], plan.sigmas()[k], 2e-4, "sigma " + k);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
    }

    @Test
    void stepperInterleavesLikeDiffusers() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 4, null);
        double[] t = plan.timesteps();
        double[] s = plan.sigmas();
        HeunSampler.Stepper stepper = new HeunSampler.Stepper(plan);
        // diffusers: timesteps = cat([t[:1], t[1:].repeat_interleave(2)]),
        //            sigmas = cat([s[:1], s[1:-1].repeat_interleave(2), s[-1:]])
        double[] timesteps = {t[0], t[1], t[1], t[2], t[2], t[3], t[3]};
        double[] sigmas = {s[0], s[1], s[1], s[2], s[2], s[3], s[3], 0};
        assertEquals(7, stepper.calls());
        for (int k = 0; k < 7; k++) {
            assertEquals(timesteps[k], stepper.timestep(k), 0.0, "timestep " + k);
        }
        for (int k = 0; k < 8; k++) {
            assertEquals(sigmas[k], stepper.sigma(k), 0.0, "sigma " + k);
        }
    }

    @Test
    void leadingSpacingAndKarrasTimesteps() {
        SamplerPlan leading = sampler.plan(SchedulerConfig.sd15().with("timestep_spacing", "leading"), 20, null);
        for (int k = 0; k < 20; k++) {
            assertEquals(951 - 50 * k, leading.timesteps()[k], 0.0);
        }
        float max = (float) leading.sigmas()[0];
        assertEquals((float) Math.sqrt(max * max + 1f), leading.initNoiseSigma(), 0.0);

        // Karras: sigmas between the interpolated first and last ones, timesteps by _sigma_to_t, as float32
        NoiseSchedule karras = (n, min, maxS) -> Sigmas.karras(n, min, maxS, 7.0);
        SamplerPlan plain = sampler.plan(SchedulerConfig.sd15(), 10, null);
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, new SamplerSettings(karras, Map.of()));
        double[] expected = Sigmas.karras(10, 0.029167, 14.614642, 7.0);
        float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod()));
        for (int i = 0; i < 10; i++) {
            assertEquals(expected[i], plan.sigmas()[i], expected[i] * 2e-5, "sigma " + i);
            assertEquals((float) Sigmas.sigmaToT(Sigmas.karras(10, plain.sigmas()[9], plain.sigmas()[0], 7.0)[i],
                    logSigmas), plan.timesteps()[i], 0.0, "timestep " + i);
        }
        assertEquals(999.0, plan.timesteps()[0], 1e-3);
        assertEquals(0.0, plan.timesteps()[9], 1e-3);
        SamplerPlan fromConfig = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 10, null);
        assertArrayEquals(plan.sigmas(), fromConfig.sigmas());
        assertArrayEquals(plan.timesteps(), fromConfig.timesteps());
        SamplerPlan exponential = sampler.plan(SchedulerConfig.sd15().with("use_exponential_sigmas", true), 10, null);
        assertEquals(Math.log(plan.sigmas()[0] / plan.sigmas()[9]) / 9,
                Math.log(exponential.sigmas()[3] / exponential.sigmas()[4]), 1e-6);
    }

    @Test
    void heunDefaultsAndExpBetas() {
        // HeunDiscreteScheduler's own beta defaults are 0.00085..0.012 (linear)
        SamplerPlan defaults = sampler.plan(DiffusersFixtures.config(), 5, null);
        SamplerPlan explicit = sampler.plan(DiffusersFixtures.config("beta_start", 0.00085, "beta_end", 0.012), 5, null);
        assertArrayEquals(explicit.sigmas(), defaults.sigmas());
        // beta_schedule "exp": betas_for_alpha_bar with exp(-12 t), so alphas_cumprod[t] = exp(-12 (t + 1) / N)
        SamplerPlan exp = sampler.plan(DiffusersFixtures.config("beta_schedule", "exp"), 2, null);
        double abar = Math.exp(-12.0);
        assertEquals(Math.sqrt((1 - abar) / abar), exp.sigmas()[0], 403.4 * 1e-4);
        assertEquals(Math.sqrt(Math.exp(0.012) - 1), exp.sigmas()[1], 1e-5);
        // rescale_betas_zero_snr is not a HeunDiscreteScheduler key: ignored
        SamplerPlan rescaled = sampler.plan(SchedulerConfig.sd15().with("rescale_betas_zero_snr", true), 5, null);
        assertArrayEquals(sampler.plan(SchedulerConfig.sd15(), 5, null).sigmas(), rescaled.sigmas());
    }

    @Test
    void sampleIsThePipelineLoopOverInterleavedTimesteps() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        // diffusers' pipelines: latent_model_input = scale_model_input(latents, t); latents = step(model(...), t, latents)
        HeunSampler.Stepper stepper = new HeunSampler.Stepper(plan);
        float[] expected = start.clone();
        float[] scaled = new float[expected.length];
        for (int k = 6; k < stepper.calls(); k++) {
            stepper.scaleModelInput(expected, k, scaled);
            stepper.step(dummyModelFloat64(scaled, stepper.timestep(k)), k, expected);
        }
        List<int[]> reports = new ArrayList<>();
        List<Double> calls = new ArrayList<>();
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                calls.add(timestep);
                return dummyDenoiserFloat64().predict(in, timestep);
            }

            @Override
            public int[] latentShape() {
                return dummyDenoiserFloat64().latentShape();
            }
        };
        float[] got = sampler.sample(model, start, plan, 3, NO_NOISE, (done, total) -> reports.add(new int[] {done, total}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        // user steps 3..9: two model calls each (t_i, then t_{i+1}), the last one call
        double[] t = plan.timesteps();
        List<Double> expectedCalls = new ArrayList<>();
        for (int i = 3; i < 10; i++) {
            expectedCalls.add(t[i]);
            if (i < 9) {
                expectedCalls.add(t[i + 1]);
            }
        }
        assertEquals(expectedCalls, calls);
        // progress per user-visible step
        assertEquals(7, reports.size());
        for (int r = 0; r < 7; r++) {
            assertArrayEquals(new int[] {4 + r, 10}, reports.get(r));
        }
    }

    @Test
    void oneStepByHand() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, null);
        // a model whose epsilon is 0.1 * x_in: two calls, the Euler guess then the averaged slope
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                return new float[] {0.1f * in[0]};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        float[] out = sampler.sample(model, new float[] {2f}, plan, 7, NO_NOISE, null);
        double x = 2;
        for (int i = 7; i < 10; i++) {
            double s = plan.sigmas()[i];
            double sn = plan.sigmas()[i + 1];
            double d1 = 0.1 * x / Math.sqrt(s * s + 1);
            double xe = x + d1 * (sn - s);
            if (i == 9) {
                x = xe;
            } else {
                double d2 = 0.1 * xe / Math.sqrt(sn * sn + 1);
                x = x + (d1 + d2) / 2 * (sn - s);
            }
        }
        assertEquals(x, out[0], 1e-6);
    }

    /** The final x for start x_T on the Gaussian world, and what the exact ODE gives (up to the last Euler jump). */
    private static double[] gaussianRun(HeunSampler sampler, SamplerPlan plan, PredictionType type, GaussianWorld world,
                                        double xT) {
        HeunSampler.Stepper stepper = new HeunSampler.Stepper(plan);
        Map<Double, Double> sigmaOfT = new HashMap<>();
        for (int k = 0; k < stepper.calls(); k++) {
            sigmaOfT.put(stepper.timestep(k), (double) stepper.sigma(k));
        }
        float[] out = sampler.sample(world.model(type, sigmaOfT), new float[] {(float) xT}, plan, 0, NO_NOISE, null);
        int n = plan.steps();
        double sLast = plan.sigmas()[n - 1];
        // the ODE from s_0 to s_{n-1}, then the last step, an Euler step to 0, which with the exact model lands on D
        double exact = world.denoise(world.flow(xT, plan.sigmas()[0], sLast), sLast);
        return new double[] {out[0], exact};
    }

    @Test
    void convergesWithSecondOrderOnTheGaussianWorld() {
        GaussianWorld world = new GaussianWorld(0.4, 0.6);
        double xT = 0.4 + 2.1 * 14.6;
        double[] errors = new double[3];
        int[] steps = {16, 32, 64};
        // sigmas evenly spaced in log sigma (exponential schedule), so halving the step refines the whole grid
        // uniformly; SD's default grid keeps a fixed sigma_min whose neighbouring steps shrink only like n^-1/2
        SamplerSettings exponential = new SamplerSettings(Sigmas::exponential, Map.of());
        for (int r = 0; r < 3; r++) {
            double[] run = gaussianRun(sampler, sampler.plan(SchedulerConfig.sd15(), steps[r], exponential),
                    PredictionType.EPSILON, world, xT);
            errors[r] = Math.abs(run[0] - run[1]);
        }
        // halving the step divides the error by about 4 (global order 2)
        assertTrue(errors[0] > 1e-4, "error " + errors[0]);
        assertEquals(4.0, errors[0] / errors[1], 1.0, "errors " + java.util.Arrays.toString(errors));
        assertEquals(4.0, errors[1] / errors[2], 1.0, "errors " + java.util.Arrays.toString(errors));
    }

    @Test
    void predictionTypesAgreeOnTheGaussianWorld() {
        GaussianWorld world = new GaussianWorld(-0.2, 1.1);
        double xT = 12.5;
        double eps = gaussianRun(sampler, sampler.plan(SchedulerConfig.sd15(), 15, null), PredictionType.EPSILON,
                world, xT)[0];
        for (String type : new String[] {"v_prediction", "sample"}) {
            SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", type);
            double other = gaussianRun(sampler, sampler.plan(cfg, 15, null), cfg.predictionType(), world, xT)[0];
            assertEquals(eps, other, 2e-5, type);
        }
    }

    @Test
    void clipSampleClampsThePredictedOriginal() {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", "sample").with("clip_sample", true)
                .with("clip_sample_range", 0.5);
        SamplerPlan plan = sampler.plan(cfg, 3, null);
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                return new float[] {3f};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        // x0 clamped to 0.5 at every call: the last Euler step to sigma 0 lands on it
        assertEquals(0.5f, sampler.sample(model, new float[] {10f}, plan, 0, NO_NOISE, null)[0], 1e-6f);
    }

    @Test
    void addNoiseIsSigmaFormAtTheUserStep() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
        // diffusers' add_noise at timesteps[t_start * order] picks interleaved sigma index 2 * 5, which is s_5
        assertEquals(sigma, new HeunSampler.Stepper(plan).sigma(10), 0f);
    }

    @Test
    void acceptsSchedulesAndHasNoParameters() {
        assertTrue(sampler.acceptsSchedule());
        assertTrue(sampler.parameters().isEmpty());
    }

    @Test
    void isADeclarativeServicesComponentNamedHeun() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.heun.HeunSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"heun\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"Heun\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }
}
