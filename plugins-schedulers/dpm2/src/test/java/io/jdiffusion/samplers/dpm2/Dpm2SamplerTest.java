package io.jdiffusion.samplers.dpm2;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiserFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
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
class Dpm2SamplerTest {
    private final Dpm2Sampler sampler = new Dpm2Sampler();

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
    void stepperInterleavesMidpointsLikeDiffusers() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        double[] t = plan.timesteps();
        double[] s = plan.sigmas();
        Dpm2Sampler.Stepper stepper = new Dpm2Sampler.Stepper(plan);
        assertEquals(39, stepper.calls());
        double[] exact = sd15SigmasDouble();
        for (int i = 0; i < 20; i++) {
            // first call of step i: t_i at sigma s_i
            assertEquals(t[i], stepper.timestep(2 * i), 0.0);
            assertEquals(s[i], stepper.sigma(2 * i), 0.0);
            if (i == 19) {
                // last step: the midpoint sigma is 0, an Euler step to 0
                assertEquals(0f, stepper.sigmaInterpol(2 * i + 1), 0f);
                break;
            }
            // midpoint m_{i+1} = exp((log s_i + log s_{i+1}) / 2), the geometric mean
            double m = Math.sqrt(s[i] * s[i + 1]);
            assertEquals(m, stepper.sigmaInterpol(2 * i + 1), m * 1e-6, "midpoint " + i);
            assertEquals(stepper.sigmaInterpol(2 * i + 1), stepper.sigmaInterpol(2 * i + 2), 0f);
            // its timestep u: where the training sigmas, log-linear between neighbours, reach m
            double u = stepper.timestep(2 * i + 1);
            assertTrue(u < t[i] && u > t[i + 1], "u " + u);
            int lo = (int) Math.floor(u);
            double w = u - lo;
            double logSigma = (1 - w) * Math.log(exact[lo]) + w * Math.log(exact[lo + 1]);
            assertEquals(Math.log(m), logSigma, 2e-4, "timestep of midpoint " + i);
            assertEquals(u, (float) u, 0.0, "float32 timestep");
        }
    }

    @Test
    void karrasTimestepsAreRoundedExponentialOnesAreNot() {
        SchedulerConfig cfg = SchedulerConfig.sd15();
        float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(cfg.alphasCumprod()));
        SamplerPlan plain = sampler.plan(cfg, 10, null);
        double[] karras = Sigmas.karras(10, Sigmas.interpIndex(0, Sigmas.fromAlphasCumprod(cfg.alphasCumprod())),
                plain.sigmas()[0], 7.0);
        // use_karras_sigmas: timesteps = np.array([_sigma_to_t(sigma, log_sigmas) for sigma in sigmas]).round()
        SamplerPlan fromConfig = sampler.plan(cfg.with("use_karras_sigmas", true), 10, null);
        for (int i = 0; i < 10; i++) {
            assertEquals((float) karras[i], fromConfig.sigmas()[i], 0.0, "sigma " + i);
            assertEquals(Math.rint(Sigmas.sigmaToT(karras[i], logSigmas)), fromConfig.timesteps()[i], 0.0, "t " + i);
        }
        // a Karras schedule from the settings is the same plan
        NoiseSchedule karrasSchedule = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan fromSettings = sampler.plan(cfg, 10, new SamplerSettings(karrasSchedule, Map.of()));
        assertArrayEquals(fromConfig.sigmas(), fromSettings.sigmas());
        assertArrayEquals(fromConfig.timesteps(), fromSettings.timesteps());
        // exponential: not rounded (float64 _sigma_to_t)
        SamplerPlan exponential = sampler.plan(cfg.with("use_exponential_sigmas", true), 10, null);
        double sigmaMin = Sigmas.interpIndex(0, Sigmas.fromAlphasCumprod(cfg.alphasCumprod()));
        double[] expSigmas = Sigmas.exponential(10, sigmaMin, plain.sigmas()[0]);
        for (int i = 0; i < 10; i++) {
            assertEquals(Sigmas.sigmaToT(expSigmas[i], logSigmas), exponential.timesteps()[i], 0.0, "t " + i);
        }
        assertNotEquals(Math.rint(exponential.timesteps()[4]), exponential.timesteps()[4]);
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(cfg.with("use_karras_sigmas", true).with("use_exponential_sigmas", true), 10, null));
    }

    @Test
    void refusesSamplePrediction() {
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 10, null));
    }

    @Test
    void sampleIsThePipelineLoopOverInterleavedTimesteps() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        Dpm2Sampler.Stepper stepper = new Dpm2Sampler.Stepper(plan);
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
        assertEquals(13, calls.size());
        assertEquals(plan.timesteps()[3], calls.get(0), 0.0);
        assertEquals(stepper.timestep(7), calls.get(1), 0.0);
        assertEquals(plan.timesteps()[9], calls.get(12), 0.0);
        assertEquals(7, reports.size());
        for (int r = 0; r < 7; r++) {
            assertArrayEquals(new int[] {4 + r, 10}, reports.get(r));
        }
    }

    @Test
    void oneStepByHand() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, null);
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
        // k-diffusion sample_dpm_2 in double with epsilon = 0.1 * c_in * x
        double x = 2;
        for (int i = 7; i < 10; i++) {
            double s = plan.sigmas()[i];
            double sn = plan.sigmas()[i + 1];
            double d = 0.1 * x / Math.sqrt(s * s + 1);
            if (i == 9) {
                x = x + d * (sn - s);
            } else {
                double mid = Math.exp((Math.log(s) + Math.log(sn)) / 2);
                double x2 = x + d * (mid - s);
                double d2 = 0.1 * x2 / Math.sqrt(mid * mid + 1);
                x = x + d2 * (sn - s);
            }
        }
        assertEquals(x, out[0], 1e-6);
    }

    private static double[] gaussianRun(Dpm2Sampler sampler, SamplerPlan plan, PredictionType type, GaussianWorld world,
                                        double xT) {
        Dpm2Sampler.Stepper stepper = new Dpm2Sampler.Stepper(plan);
        Map<Double, Double> sigmaOfT = new HashMap<>();
        for (int k = 0; k < stepper.calls(); k++) {
            sigmaOfT.put(stepper.timestep(k), (double) (k % 2 == 0 ? stepper.sigma(k) : stepper.sigmaInterpol(k)));
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
        assertTrue(errors[0] > 1e-4, "error " + errors[0]);
        assertEquals(4.0, errors[0] / errors[1], 1.0, "errors " + java.util.Arrays.toString(errors));
        assertEquals(4.0, errors[1] / errors[2], 1.0, "errors " + java.util.Arrays.toString(errors));
    }

    @Test
    void vPredictionAgreesWithEpsilonOnTheGaussianWorld() {
        GaussianWorld world = new GaussianWorld(-0.2, 1.1);
        double xT = 12.5;
        double eps = gaussianRun(sampler, sampler.plan(SchedulerConfig.sd15(), 15, null), PredictionType.EPSILON,
                world, xT)[0];
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", "v_prediction");
        double v = gaussianRun(sampler, sampler.plan(cfg, 15, null), PredictionType.V_PREDICTION, world, xT)[0];
        assertEquals(eps, v, 2e-5);
    }

    @Test
    void addNoiseIsSigmaFormAtTheUserStep() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
        assertEquals(sigma, new Dpm2Sampler.Stepper(plan).sigma(10), 0f);
    }

    @Test
    void acceptsSchedulesAndHasNoParameters() {
        assertTrue(sampler.acceptsSchedule());
        assertTrue(sampler.parameters().isEmpty());
    }

    @Test
    void isADeclarativeServicesComponentNamedDpm2() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.dpm2.Dpm2Sampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"dpm2\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DPM2\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }
}
