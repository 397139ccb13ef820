package io.jdiffusion.samplers.dpm2_a;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiserFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
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

/** Plan and interleaving against values derived from diffusers' code, the loop's contract, and the Gaussian-world checks. */
class Dpm2AncestralSamplerTest {
    private final Dpm2AncestralSampler sampler = new Dpm2AncestralSampler();

    @Test
    void sd15TwentyStepsArePlannedAsUserVisibleSteps() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        assertEquals(20, plan.steps());
        assertEquals(21, plan.sigmas().length);
        assertEquals(2, plan.order());
        // The same 20 sigmas as ComfyUI's docs publish for the SD schedule ("normal", 20 steps, docs.comfy.org)
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < 20; k++) {
            double expected = k == 0 ? 999.0 : (float) ((19 - k) * (999.0 / 19));
            assertEquals(expected, plan.timesteps()[k], 0.0, "timestep " + k);
            assertEquals(comfy[k], plan.sigmas()[k], 2e-4, "sigma " + k);
        }
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
    }

    @Test
    void stepperInterleavesAncestralStepsLikeDiffusers() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        double[] t = plan.timesteps();
        double[] s = plan.sigmas();
        Dpm2AncestralSampler.Stepper stepper = new Dpm2AncestralSampler.Stepper(plan);
        assertEquals(39, stepper.calls());
        for (int i = 0; i < 20; i++) {
            assertEquals(t[i], stepper.timestep(2 * i), 0.0);
            assertEquals(s[i], stepper.sigma(2 * i), 0.0);
            // get_ancestral_step(s_i, s_{i+1}): up = s_{i+1} sqrt(1 - s_{i+1}^2 / s_i^2), down = s_{i+1}^2 / s_i
            double up = s[i + 1] * Math.sqrt(1 - s[i + 1] * s[i + 1] / (s[i] * s[i]));
            double down = s[i + 1] * s[i + 1] / s[i];
            assertEquals(up, stepper.sigmaUp(2 * i), 1e-6 * s[i], "up " + i);
            assertEquals(down, stepper.sigmaDown(2 * i), 1e-6 * s[i], "down " + i);
            if (i == 19) {
                assertEquals(0f, stepper.sigmaInterpol(2 * i), 0f, "last step: Euler to 0");
                break;
            }
            // midpoint between s_i and sigma_down_i in log sigma, and its timestep between t_i and t_{i+1};
            // float32 sigma_down = sqrt(to^2 - up^2) cancels where up is close to to (the last steps): 1e-5
            double m = Math.sqrt(s[i] * down);
            assertEquals(m, stepper.sigmaInterpol(2 * i), 1e-5 * m, "midpoint " + i);
            double u = stepper.timestep(2 * i + 1);
            assertTrue(u < t[i] && u > t[i + 1] - 1e-3 || i == 18, "u " + u);
        }
    }

    @Test
    void karrasTimestepsAreRounded() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan fromSettings = sampler.plan(SchedulerConfig.sd15(), 10, new SamplerSettings(karras, Map.of()));
        SamplerPlan fromConfig = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 10, null);
        assertArrayEquals(fromConfig.sigmas(), fromSettings.sigmas());
        assertArrayEquals(fromConfig.timesteps(), fromSettings.timesteps());
        for (double t : fromConfig.timesteps()) {
            assertEquals(Math.rint(t), t, 0.0);
        }
        assertEquals(999.0, fromConfig.timesteps()[0]);
    }

    @Test
    void refusesSamplePrediction() {
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 10, null));
    }

    @Test
    void sampleIsThePipelineLoopWithOneDrawPerSecondOrderCall() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        Dpm2AncestralSampler.Stepper stepper = new Dpm2AncestralSampler.Stepper(plan);
        float[] expected = start.clone();
        float[] scaled = new float[expected.length];
        TorchCpuGenerator reference = new TorchCpuGenerator(5);
        for (int k = 6; k < stepper.calls(); k++) {
            stepper.scaleModelInput(expected, k, scaled);
            stepper.step(dummyModelFloat64(scaled, stepper.timestep(k)), k, expected, reference);
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
        CountingNoise counting = new CountingNoise(0f) {
            private final TorchCpuGenerator inner = new TorchCpuGenerator(5);

            @Override
            public float[] randn(int n) {
                super.randn(n);
                return inner.randn(n);
            }
        };
        float[] got = sampler.sample(model, start, plan, 3, counting, (done, total) -> reports.add(new int[] {done, total}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(13, calls.size());
        // steps 3..8 draw once each after their second call; the last step (Euler to 0) draws nothing
        assertEquals(List.of(768, 768, 768, 768, 768, 768), counting.draws);
        assertEquals(7, reports.size());
        for (int r = 0; r < 7; r++) {
            assertArrayEquals(new int[] {4 + r, 10}, reports.get(r));
        }
    }

    private static Map<Double, Double> sigmaOfT(Dpm2AncestralSampler.Stepper stepper) {
        Map<Double, Double> m = new HashMap<>();
        for (int k = 0; k < stepper.calls(); k++) {
            m.put(stepper.timestep(k), (double) (k % 2 == 0 ? stepper.sigma(k) : stepper.sigmaInterpol(k - 1)));
        }
        return m;
    }

    @Test
    void etaZeroIsDpmSolver2AndDrawsNothing() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 12, new SamplerSettings(null, Map.of("eta", 0.0)));
        GaussianWorld world = new GaussianWorld(0.3, 0.8);
        Dpm2AncestralSampler.Stepper stepper = new Dpm2AncestralSampler.Stepper(plan);
        float[] x = {-20f, -3f, 0f, 5f, 17f};
        float[] got = sampler.sample(world.model(PredictionType.EPSILON, sigmaOfT(stepper)), x, plan, 0, NO_NOISE, null);
        // k-diffusion sample_dpm_2 by hand in double on the same model
        for (int j = 0; j < x.length; j++) {
            double y = x[j];
            for (int i = 0; i < plan.steps(); i++) {
                double s = plan.sigmas()[i];
                double sn = plan.sigmas()[i + 1];
                double d = (y - world.denoise(y, s)) / s;
                if (sn == 0) {
                    y += d * (sn - s);
                } else {
                    double mid = Math.exp((Math.log(s) + Math.log(sn)) / 2);
                    double y2 = y + d * (mid - s);
                    double d2 = (y2 - world.denoise(y2, mid)) / mid;
                    y += d2 * (sn - s);
                }
            }
            assertEquals(y, got[j], 2e-5 * Math.max(1, Math.abs(y)));
        }
    }

    /**
     * The law of the discrete chain on the Gaussian world, in double: with {@code y = x - mu} each user step is
     * linear, {@code y' = B y + sigma_up z}, so the mean stays {@code mu} and the variance follows
     * {@code V' = B^2 V + sigma_up^2}.
     */
    static double predictedStd(double[] sigmas, double s) {
        double v = s * s + sigmas[0] * sigmas[0];
        for (int i = 0; i + 1 < sigmas.length; i++) {
            double from = sigmas[i];
            double to = sigmas[i + 1];
            double b;
            double up = 0;
            if (to == 0) {
                b = 1 - from * from / (s * s + from * from);
            } else {
                up = to * Math.sqrt(1 - to * to / (from * from));
                double down = to * to / from;
                double mid = Math.sqrt(from * down);
                double a1 = 1 + from * (mid - from) / (s * s + from * from);
                b = 1 + a1 * mid * (down - from) / (s * s + mid * mid);
            }
            v = b * b * v + up * up;
        }
        return Math.sqrt(v);
    }

    @Test
    void ancestralSamplingHasTheLawOfTheDiscreteChain() {
        GaussianWorld world = new GaussianWorld(0.5, 0.7);
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        double sigmaMax = plan.sigmas()[0];
        int n = 40_000;
        java.util.Random random = new java.util.Random(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (world.mu + Math.sqrt(world.s * world.s + sigmaMax * sigmaMax) * random.nextGaussian());
        }
        float[] out = sampler.sample(world.model(PredictionType.EPSILON, sigmaOfT(new Dpm2AncestralSampler.Stepper(plan))),
                x, plan, 0, new JavaNoise(13), null);
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
        // 4 standard errors: mean 0.7 / 200, std 0.7 / sqrt(2 n)
        assertEquals(world.mu, mean, 0.014, "mean");
        assertEquals(expectedStd, std, 0.01, "std");
        // the chain's law converges to the data's as steps grow
        assertTrue(Math.abs(expectedStd - world.s) > 0.01, "20 steps still lose some spread: " + expectedStd);
        SamplerPlan fine = sampler.plan(SchedulerConfig.sd15(), 1000, null);
        assertEquals(world.s, predictedStd(fine.sigmas(), world.s), 0.01 * world.s);
    }

    @Test
    void addNoiseIsSigmaFormAtTheUserStep() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
        assertEquals(sigma, new Dpm2AncestralSampler.Stepper(plan).sigma(10), 0f);
    }

    @Test
    void declaresItsParameters() {
        assertTrue(sampler.acceptsSchedule());
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("eta", "s_noise"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(1.0, specs.get(0).defaultValue());
        assertEquals(1.0, specs.get(1).defaultValue());
    }

    @Test
    void isADeclarativeServicesComponentNamedDpm2A() throws IOException {
        try (InputStream in = getClass().getResourceAsStream(
                "/OSGI-INF/io.jdiffusion.samplers.dpm2_a.Dpm2AncestralSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"dpm2_a\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DPM2 a\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }
}
