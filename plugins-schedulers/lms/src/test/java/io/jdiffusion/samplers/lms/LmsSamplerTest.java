package io.jdiffusion.samplers.lms;

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
import io.jdiffusion.api.ParameterSpec;
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

/** Plan, the LMS coefficients against their defining conditions, the loop's contract, and the Gaussian-world check. */
class LmsSamplerTest {
    private final LmsSampler sampler = new LmsSampler();

    @Test
    void sd15TwentyStepsLinspace() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        assertEquals(20, plan.steps());
        assertEquals(21, plan.sigmas().length);
        assertEquals(1, plan.order());
        // The same 20 sigmas as ComfyUI's docs publish for the SD schedule ("normal", 20 steps, docs.comfy.org)
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < 20; k++) {
            double expected = k == 0 ? 999.0 : (float) ((19 - k) * (999.0 / 19));
            assertEquals(expected, plan.timesteps()[k], 0.0, "timestep " + k);
            assertEquals(comfy[k], plan.sigmas()[k], 2e-4, "sigma " + k);
        }
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
        // use_karras_sigmas / use_exponential_sigmas: timesteps by _sigma_to_t as float32
        SamplerPlan karras = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 10, null);
        float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod()));
        for (int i = 0; i < 10; i++) {
            assertEquals((float) Sigmas.sigmaToT(karras.sigmas()[i], logSigmas), karras.timesteps()[i], 0.02);
        }
    }

    @Test
    void coefficientsIntegrateTheInterpolatingPolynomialExactly() {
        double[] sigmas = {14.6, 9.7, 6.2, 3.9, 2.2, 1.1, 0.4, 0.0};
        for (int t = 0; t < 7; t++) {
            for (int order = 1; order <= Math.min(t + 1, 4); order++) {
                double a = sigmas[t];
                double b = sigmas[t + 1];
                // the coefficients c_j weight f(sigma_{t-j}); for f(sigma) = sigma^m with m < order the rule is exact:
                // sum_j c_j sigma_{t-j}^m = (b^{m+1} - a^{m+1}) / (m + 1)
                for (int m = 0; m < order; m++) {
                    double sum = 0;
                    for (int j = 0; j < order; j++) {
                        sum += LmsSampler.lmsCoefficient(sigmas, order, t, j) * Math.pow(sigmas[t - j], m);
                    }
                    double exact = (Math.pow(b, m + 1) - Math.pow(a, m + 1)) / (m + 1);
                    assertEquals(exact, sum, 1e-12 * Math.max(1, Math.abs(exact)) * Math.pow(15, m),
                            "t " + t + " order " + order + " m " + m);
                }
            }
        }
        // order 1 is Euler: the step length; order 2 on equal steps h is Adams-Bashforth 2: 3h/2, -h/2
        assertEquals(-4.9, LmsSampler.lmsCoefficient(sigmas, 1, 0, 0), 1e-12);
        double[] even = {4, 3, 2, 1};
        assertEquals(-1.5, LmsSampler.lmsCoefficient(even, 2, 2, 0), 1e-12);
        assertEquals(0.5, LmsSampler.lmsCoefficient(even, 2, 2, 1), 1e-12);
        // order 4 on equal steps: 55/24, -59/24, 37/24, -9/24 (times -h)
        double[] even5 = {5, 4, 3, 2, 1};
        double[] ab4 = {-55.0 / 24, 59.0 / 24, -37.0 / 24, 9.0 / 24};
        for (int j = 0; j < 4; j++) {
            assertEquals(ab4[j], LmsSampler.lmsCoefficient(even5, 4, 3, j), 1e-12);
        }
    }

    @Test
    void sampleIsThePipelineLoop() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        float[] start = dummySampleDeter();
        LmsSampler.Stepper stepper = new LmsSampler.Stepper(plan);
        float[] expected = start.clone();
        float[] scaled = new float[expected.length];
        for (int i = 0; i < plan.steps(); i++) {
            stepper.scaleModelInput(expected, i, scaled);
            stepper.step(dummyModelFloat64(scaled, plan.timesteps()[i]), i, expected);
            assertEquals(Math.min(i + 1, 4), stepper.history(), "derivatives kept");
        }
        List<int[]> reports = new ArrayList<>();
        float[] got = sampler.sample(dummyDenoiserFloat64(), start, plan, 0, NO_NOISE,
                (done, total) -> reports.add(new int[] {done, total}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(10, reports.size());
        assertArrayEquals(new int[] {10, 10}, reports.get(9));
    }

    @Test
    void img2imgStartUsesTheFirstCoefficientsOfTheFullOrderSet() {
        // diffusers: order = min(step_index + 1, 4) coefficients, zipped with the derivatives it has (one here)
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, null);
        Denoiser constant = new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                return new float[] {0.25f};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        float[] out = sampler.sample(constant, new float[] {1f}, plan, 8, NO_NOISE, null);
        // epsilon 0.25 everywhere: the derivative is 0.25 at every step
        double c8 = (float) LmsSampler.lmsCoefficient(plan.sigmas(), 4, 8, 0);
        double c9 = (float) LmsSampler.lmsCoefficient(plan.sigmas(), 4, 9, 0)
                + (float) LmsSampler.lmsCoefficient(plan.sigmas(), 4, 9, 1);
        assertEquals(1 + 0.25 * c8 + 0.25 * c9, out[0], 1e-6);
        // which is not the plain 0.25 * (0 - s_8) an order-reset run would give
        assertTrue(Math.abs(c8 + c9 + plan.sigmas()[8]) > 1e-3);
    }

    private static double gaussianError(LmsSampler sampler, int steps, int order, PredictionType type, GaussianWorld world,
                                        double xT) {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", type.name().toLowerCase(java.util.Locale.ROOT));
        // sigmas evenly spaced in log sigma (exponential schedule), so halving the step refines the grid uniformly
        SamplerPlan plan = sampler.plan(cfg, steps, new SamplerSettings(Sigmas::exponential, Map.of("order", order)));
        Map<Double, Double> sigmaOfT = new HashMap<>();
        for (int i = 0; i < steps; i++) {
            sigmaOfT.put(plan.timesteps()[i], plan.sigmas()[i]);
        }
        float[] out = sampler.sample(world.model(type, sigmaOfT), new float[] {(float) xT}, plan, 0, NO_NOISE, null);
        return out[0] - world.flow(xT, plan.sigmas()[0], 0);
    }

    @Test
    void convergesWithTheOrderItIsGivenOnTheGaussianWorld() {
        GaussianWorld world = new GaussianWorld(0.4, 0.6);
        double xT = 0.4 + 2.1 * 14.6;
        for (int order = 1; order <= 3; order++) {
            double e32 = Math.abs(gaussianError(sampler, 32, order, PredictionType.EPSILON, world, xT));
            double e64 = Math.abs(gaussianError(sampler, 64, order, PredictionType.EPSILON, world, xT));
            double e128 = Math.abs(gaussianError(sampler, 128, order, PredictionType.EPSILON, world, xT));
            double expected = Math.pow(2, order);
            assertEquals(expected, e32 / e64, 0.25 * expected, "order " + order + ": " + e32 + " " + e64);
            assertEquals(expected, e64 / e128, 0.25 * expected, "order " + order + ": " + e64 + " " + e128);
        }
        // order 4 (the default) until float32 rounding takes over: better than third order
        double e16 = Math.abs(gaussianError(sampler, 16, 4, PredictionType.EPSILON, world, xT));
        double e32 = Math.abs(gaussianError(sampler, 32, 4, PredictionType.EPSILON, world, xT));
        double e64 = Math.abs(gaussianError(sampler, 64, 4, PredictionType.EPSILON, world, xT));
        assertTrue(e16 / e32 > 8 && e32 / e64 > 8, e16 + " " + e32 + " " + e64);
    }

    @Test
    void predictionTypesAgreeOnTheGaussianWorld() {
        GaussianWorld world = new GaussianWorld(-0.2, 1.1);
        double eps = gaussianError(sampler, 15, 4, PredictionType.EPSILON, world, 12.5);
        assertEquals(eps, gaussianError(sampler, 15, 4, PredictionType.V_PREDICTION, world, 12.5), 2e-5);
        assertEquals(eps, gaussianError(sampler, 15, 4, PredictionType.SAMPLE, world, 12.5), 2e-5);
    }

    @Test
    void orderParameter() {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("order"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(4.0, specs.get(0).defaultValue());
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, new SamplerSettings(null, Map.of("order", 2.5)));
        assertThrows(IllegalArgumentException.class, () -> new LmsSampler.Stepper(plan));
        assertTrue(sampler.acceptsSchedule());
    }

    @Test
    void addNoiseIsSigmaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
    }

    @Test
    void isADeclarativeServicesComponentNamedLms() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.lms.LmsSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"lms\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"LMS\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }
}
