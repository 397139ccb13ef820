package io.jdiffusion.samplers.dpmpp_2s_a;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import io.jdiffusion.samplers.testkit.CountingNoise;
import io.jdiffusion.samplers.testkit.SplittableNoise;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * DPM++ 2S a has no diffusers scheduler, so no diffusers expectations: the plan is checked against
 * k-diffusion's get_sigmas / sigma_to_t computed independently, the steps against the formulas of
 * k-diffusion's sample_dpmpp_2s_ancestral by hand, and the sampler as a whole on Gaussian data
 * N(mu, s^2), where the exact denoiser and the probability-flow ODE solution are known in closed form:
 * with eta 0 it is the deterministic DPM-Solver++(2S) and must converge to the ODE solution with order
 * 2; with eta 1 it must sample the data distribution.
 */
class DpmPp2sAncestralSamplerTest {
    private static final NoiseSchedule KARRAS = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);

    private final DpmPp2sAncestralSampler sampler = new DpmPp2sAncestralSampler();

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
    void sd15TwentyStepsAreKDiffusionsGetSigmas() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        double[] exact = sd15SigmasDouble();
        assertEquals(20, plan.steps());
        assertEquals(21, plan.sigmas().length);
        for (int k = 0; k < 20; k++) {
            // get_sigmas(20): t = linspace(999, 0, 20); sigma = exp of log sigma interpolated linearly in t
            double t = 999.0 * (19 - k) / 19;
            int lo = (int) Math.floor(t);
            int hi = (int) Math.ceil(t);
            double w = t - lo;
            double expected = Math.exp((1 - w) * Math.log(exact[lo]) + w * Math.log(exact[hi]));
            assertEquals(expected, plan.sigmas()[k], expected * 1e-4, "sigma " + k);
            // the UNet timestep is sigma_to_t(sigma): t back again
            assertEquals(t, plan.timesteps()[k], 2e-3, "timestep " + k);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        // the same 20 sigmas as ComfyUI's "normal" scheduler for SD (docs.comfy.org), which is k-diffusion's
        // get_sigmas: log-sigma interpolation at linspace(999, 0, 20)
        double[] comfy = {14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
            1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000};
        for (int k = 0; k < comfy.length; k++) {
            assertEquals(comfy[k], plan.sigmas()[k], 1e-4, "sigma " + k);
        }
        // A1111: x = noise * sigmas[0]
        assertEquals(plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
        assertEquals(2, plan.order());
    }

    @Test
    void scheduleSpansTheTrainingSigmas() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, new SamplerSettings(KARRAS, Map.of()));
        double[] exact = sd15SigmasDouble();
        assertEquals(exact[999], plan.sigmas()[0], 1e-4);
        assertEquals(exact[0], plan.sigmas()[9], 1e-6);
        assertEquals(0.0, plan.sigmas()[10]);
        assertEquals(999.0, plan.timesteps()[0], 1e-3);
        assertEquals(0.0, plan.timesteps()[9], 1e-3);
        SamplerPlan fromConfig = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 10, null);
        assertArrayEquals(plan.sigmas(), fromConfig.sigmas());
        assertArrayEquals(plan.timesteps(), fromConfig.timesteps());
    }

    @Test
    void ancestralStepSplitsTheVariance() {
        float[] step = DpmPp2sAncestralSampler.ancestralStep(2f, 1f, 1f);
        // sigma_up = sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2), sigma_down^2 + sigma_up^2 = sigma_to^2
        assertEquals(Math.sqrt(0.75), step[1], 1e-6);
        assertEquals(0.5, step[0], 1e-6);
        float[] half = DpmPp2sAncestralSampler.ancestralStep(2f, 1f, 0.5f);
        assertEquals(0.5 * Math.sqrt(0.75), half[1], 1e-6);
        assertEquals(Math.sqrt(1 - 0.25 * 0.75), half[0], 1e-6);
        assertArrayEquals(new float[] {1f, 0f}, DpmPp2sAncestralSampler.ancestralStep(2f, 1f, 0f));
        assertArrayEquals(new float[] {0f, 0f}, DpmPp2sAncestralSampler.ancestralStep(2f, 0f, 1f));
    }

    @Test
    void oneStepByHand() {
        // eps model with constant output 0.1, noise always 0.5, eta 1, s_noise 1
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 10, null);
        List<Double> timesteps = new ArrayList<>();
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                timesteps.add(timestep);
                return new float[] {0.1f};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        float[] out = sampler.sample(model, new float[] {2f}, plan, 8, new CountingNoise(0.5f), null);
        double sigma = plan.sigmas()[8];
        double next = plan.sigmas()[9];
        double up = Math.sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma));
        double down = Math.sqrt(next * next - up * up);
        double x = 2;
        double denoised = x - sigma * 0.1;
        double h = Math.log(sigma / down);
        double sigmaS = sigma * Math.exp(-h / 2);
        double x2 = sigmaS / sigma * x - Math.expm1(-h / 2) * denoised;
        double denoised2 = x2 - sigmaS * 0.1;
        x = down / sigma * x - Math.expm1(-h) * denoised2 + 0.5 * up;
        // last step: Euler to sigma 0 (one model call, no noise)
        double last = x - next * 0.1;
        assertEquals(last, out[0], 1e-5);
        // model calls: sigma 8, the midpoint, sigma 9; each at k-diffusion's sigma_to_t of its sigma
        assertEquals(3, timesteps.size());
        float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod()));
        assertEquals(plan.timesteps()[8], timesteps.get(0), 0.0);
        assertEquals(Sigmas.kDiffusionSigmaToT((float) sigmaS, logSigmas), timesteps.get(1), 1e-3);
        assertEquals(plan.timesteps()[9], timesteps.get(2), 0.0);
    }

    @Test
    void modelInputAndPredictionTypesAreCompVisDenoisers() {
        // v_prediction: denoised = x / (sigma^2 + 1) - sigma / sqrt(sigma^2 + 1) * v; input x / sqrt(sigma^2 + 1)
        SchedulerConfig v = SchedulerConfig.sd15().with("prediction_type", "v_prediction");
        float[] logSigmas = DpmPp2sAncestralSampler.logSigmas(v);
        float[] seen = new float[1];
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                seen[0] = modelInput[0];
                return new float[] {0.25f};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        DpmPp2sAncestralSampler.KDenoiser d = new DpmPp2sAncestralSampler.KDenoiser(model, v, logSigmas);
        float sigma = 3f;
        float[] out = d.denoise(new float[] {2f}, sigma, 500f);
        assertEquals(2 / Math.sqrt(10), seen[0], 1e-6);
        assertEquals(2.0 / 10 - 3 / Math.sqrt(10) * 0.25, out[0], 1e-6);
        SchedulerConfig sample = SchedulerConfig.sd15().with("prediction_type", "sample");
        float[] x0 = new DpmPp2sAncestralSampler.KDenoiser(model, sample, logSigmas).denoise(new float[] {2f}, sigma, 1f);
        assertEquals(0.25f, x0[0]);
    }

    @Test
    void drawsOneNoisePerStepAfterTheModelCalls() {
        List<Integer> draws = new ArrayList<>();
        List<String> events = new ArrayList<>();
        NoiseSource counting = new NoiseSource() {
            @Override
            public float[] randn(int n) {
                draws.add(n);
                events.add("noise");
                return new float[n];
            }

            @Override
            public long seed() {
                return 0;
            }
        };
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                events.add("model");
                return new float[modelInput.length];
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 6};
            }
        };
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 5, null);
        List<int[]> reports = new ArrayList<>();
        sampler.sample(model, new float[6], plan, 1, counting, (d, t) -> reports.add(new int[] {d, t}));
        // steps 1..3 draw after their two model calls; the last step (to sigma 0) is one Euler call, no noise
        assertEquals(List.of(6, 6, 6), draws);
        assertEquals(List.of("model", "model", "noise", "model", "model", "noise", "model", "model", "noise", "model"),
                events);
        assertEquals(4, reports.size());
        assertArrayEquals(new int[] {5, 5}, reports.get(3));
    }

    @Test
    void etaZeroIsTheDeterministicSolverWithOrderTwo() {
        // Karras spacing keeps the steps even in log sigma, so the order shows from few steps on
        double previous = Double.NaN;
        for (int steps : new int[] {8, 16, 32}) {
            double err = odeError(steps, KARRAS);
            if (!Double.isNaN(previous)) {
                double order = Math.log(previous / err) / Math.log(2);
                assertTrue(order > 1.9 && order < 2.2, "observed order " + order + " at " + steps + " steps");
            }
            previous = err;
        }
        assertTrue(previous < 5e-3, "error at 32 steps " + previous);
        // on k-diffusion's own spacing (uneven in log sigma near t = 0) it converges too, more slowly
        double e16 = odeError(16, null);
        double e64 = odeError(64, null);
        assertTrue(e64 < e16 / 5 && e64 < 1e-2, e16 + " -> " + e64);
    }

    /** Largest error against the closed-form ODE solution (followed by the final denoising step). */
    private double odeError(int steps, NoiseSchedule schedule) {
        SchedulerConfig cfg = SchedulerConfig.sd15();
        SamplerPlan plan = sampler.plan(cfg, steps, new SamplerSettings(schedule, Map.of("eta", 0.0)));
        GaussianData data = new GaussianData(0.5, 0.5, 5, cfg);
        double sigma0 = plan.sigmas()[0];
        float[] x = new float[5];
        for (int i = 0; i < 5; i++) {
            x[i] = (float) (0.5 + (i - 2) * Math.sqrt(0.25 + sigma0 * sigma0));
        }
        // eta 0: the noise is still drawn (k-diffusion draws when sigma_next > 0) but multiplied by sigma_up = 0
        float[] out = sampler.sample(data, x, plan, 0, new CountingNoise(123f), null);
        double last = plan.sigmas()[steps - 1];
        double err = 0;
        for (int i = 0; i < 5; i++) {
            // the last step, to sigma 0, is an Euler step, which is D(x) exactly
            double expected = data.denoise(data.flow(x[i], sigma0, last), last);
            err = Math.max(err, Math.abs(out[i] - expected));
        }
        return err;
    }

    @Test
    void etaOneSamplesTheDataDistribution() {
        // Exact ancestral steps would keep every marginal exact (N(mu, s^2 + sigma^2)); the DPM-Solver++(2S)
        // part is only approximate, so the variance converges with the steps (measured on Karras spacing:
        // -19 % at 10 steps, -1.3 % at 40, +0.2 % at 80; mean exact within sampling error)
        double mu = 0.5;
        double sd = 0.5;
        double err10 = varianceError(mu, sd, 10);
        double err40 = varianceError(mu, sd, 40);
        assertTrue(Math.abs(err40) < 0.03, "variance error at 40 steps " + err40);
        assertTrue(Math.abs(err40) < Math.abs(err10) / 4, err10 + " -> " + err40);
    }

    private double varianceError(double mu, double sd, int steps) {
        int n = 100_000;
        SchedulerConfig cfg = SchedulerConfig.sd15();
        SamplerPlan plan = sampler.plan(cfg, steps, new SamplerSettings(KARRAS, Map.of()));
        GaussianData data = new GaussianData(mu, sd, n, cfg);
        float[] x = data.marginal(plan.sigmas()[0], new SplittableRandom(1));
        float[] out = sampler.sample(data, x, plan, 0, new SplittableNoise(7), null);
        double mean = 0;
        for (float v : out) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (float v : out) {
            var += (v - mean) * (v - mean);
        }
        var /= n - 1;
        double last = plan.sigmas()[steps - 1];
        // the final Euler step to 0 returns D(x) for x ~ N(mu, s^2 + sigma^2)
        double expected = Math.pow(sd, 4) / (sd * sd + last * last);
        assertEquals(mu, mean, 0.006, "mean at " + steps + " steps");
        return var / expected - 1;
    }

    @Test
    void sNoiseScalesTheAddedNoise() {
        SamplerPlan base = sampler.plan(SchedulerConfig.sd15(), 4, null);
        SamplerPlan doubled = sampler.plan(SchedulerConfig.sd15(), 4, new SamplerSettings(null, Map.of("s_noise", 2.0)));
        Denoiser zero = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                return new float[modelInput.length];
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
        // a zero-eps model leaves x unchanged by the solver, so only the noise moves it (until the last step)
        float[] a = sampler.sample(zero, new float[] {0f}, base, 2, new CountingNoise(1f), null);
        float[] b = sampler.sample(zero, new float[] {0f}, doubled, 2, new CountingNoise(1f), null);
        assertEquals(2 * a[0], b[0], 1e-6);
        assertTrue(a[0] > 0);
    }

    @Test
    void declaresItsParametersAndIsAComponent() throws IOException {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("eta", "s_noise"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(1.0, specs.get(0).defaultValue());
        assertEquals(1.0, specs.get(1).defaultValue());
        assertTrue(sampler.acceptsSchedule());
        try (InputStream in = getClass().getResourceAsStream(
                "/OSGI-INF/io.jdiffusion.samplers.dpmpp_2s_a.DpmPp2sAncestralSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"dpmpp_2s_a\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DPM++ 2S a\"/>"), xml);
        }
    }

}
