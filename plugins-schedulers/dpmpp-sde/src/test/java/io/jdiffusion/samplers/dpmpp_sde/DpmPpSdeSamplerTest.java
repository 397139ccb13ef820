package io.jdiffusion.samplers.dpmpp_sde;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import io.jdiffusion.samplers.testkit.DiffusersFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plan of DPMSolverSDEScheduler.set_timesteps, the pipeline loop, the Brownian tree's properties and the sampled distribution. */
class DpmPpSdeSamplerTest {
    private final DpmPpSdeSampler sampler = new DpmPpSdeSampler();

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
    void sd15TwentyStepsLinspace() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        double[] exact = sd15SigmasDouble();
        // timesteps: np.linspace(0, 999, 20, dtype=float)[::-1], kept in float64; sigmas interpolated linearly
        for (int k = 0; k < 20; k++) {
            double t = k == 0 ? 999.0 : (19 - k) * (999.0 / 19);
            assertEquals(t, plan.timesteps()[k], 1e-9, "timestep " + k);
            int lo = (int) Math.floor(t);
            double expected = lo >= 999 ? exact[999] : exact[lo] + (t - lo) * (exact[lo + 1] - exact[lo]);
            assertEquals(expected, plan.sigmas()[k], expected * 1e-4, "sigma " + k);
        }
        assertEquals(0.0, plan.sigmas()[20]);
        assertEquals(2, plan.order()); // two model calls per step
        assertEquals((float) plan.sigmas()[0], plan.initNoiseSigma(), 0.0);
        // the second-order timesteps: _sigma_to_t of exp(-(t_i + t_{i+1}) / 2) = sqrt(sigma_i sigma_{i+1})
        DpmPpSdeSampler.Planned p = DpmPpSdeSampler.planned(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        assertEquals(19, p.midTimesteps().length);
        float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod()));
        for (int k = 0; k < 19; k++) {
            double mid = Math.sqrt(p.sigmas()[k] * p.sigmas()[k + 1]);
            assertEquals(Sigmas.sigmaToT(mid, logSigmas), p.midTimesteps()[k], 1e-6);
            assertTrue(p.midTimesteps()[k] < plan.timesteps()[k] && p.midTimesteps()[k] > plan.timesteps()[k + 1]);
        }
    }

    @Test
    void leadingSpacingInitNoiseSigma() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("timestep_spacing", "leading"), 20, null);
        assertEquals(951.0, plan.timesteps()[0]);
        float max = (float) plan.sigmas()[0];
        assertEquals((float) Math.sqrt(max * max + 1f), plan.initNoiseSigma(), 0.0);
    }

    @Test
    void sampleIsThePipelineLoopOverInterleavedTimesteps() {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("num_train_timesteps", 1100).with("beta_schedule", "linear")
                .with("beta_start", 0.0001).with("beta_end", 0.02);
        SamplerPlan plan = sampler.plan(cfg, 6, null);
        NoiseSource seed = seed(42);
        // by hand: scale_model_input -> model -> step on the unscaled latents, over t_0, mid_0, t_1, ..., t_5
        DpmPpSdeSampler.Stepper stepper = new DpmPpSdeSampler.Stepper(plan, 42);
        float[] expected = dummySampleDeter();
        List<Double> expectedTimesteps = new ArrayList<>();
        for (int call = 2; call < stepper.calls(); call++) {
            float[] scaled = stepper.scaleModelInput(expected, call);
            expectedTimesteps.add(stepper.timestep(call));
            expected = stepper.step(dummyModel(scaled, stepper.timestep(call)), call, expected);
        }
        List<Double> seen = new ArrayList<>();
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                seen.add(timestep);
                return dummyModel(modelInput, timestep);
            }

            @Override
            public int[] latentShape() {
                return new int[] {4, 3, 8, 8};
            }
        };
        List<int[]> reports = new ArrayList<>();
        float[] start = dummySampleDeter();
        float[] got = sampler.sample(model, start, plan, 1, seed, (d, t) -> reports.add(new int[] {d, t}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(expectedTimesteps, seen);
        assertEquals(9, seen.size()); // steps 1..4 call twice, the last step (to sigma 0) once
        assertEquals(5, reports.size());
        assertArrayEquals(new int[] {2, 6}, reports.get(0));
        assertArrayEquals(new int[] {6, 6}, reports.get(4));
    }

    @Test
    void noiseComesFromTheBrownianTreeSeededByTheImageSeed() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 8, null);
        float[] a = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(7), null);
        float[] b = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(7), null);
        float[] c = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(8), null);
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
        // the config's noise_sampler_seed wins, as in diffusers
        SamplerPlan fixed = sampler.plan(SchedulerConfig.sd15().with("noise_sampler_seed", 7), 8, null);
        assertArrayEquals(a, sampler.sample(dummyDenoiser(), dummySampleDeter(), fixed, 0, seed(1234), null));
    }

    @Test
    void etaZeroIsDeterministic() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 8, new SamplerSettings(null, Map.of("eta", 0.0)));
        float[] a = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(1), null);
        float[] b = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(2), null);
        assertArrayEquals(a, b);
    }

    @Test
    void brownianIncrementsHaveTheRightLaw() {
        int size = 200_000;
        BrownianTree tree = new BrownianTree(0.03, 14.6, size, 5);
        float[] w1 = tree.increment(2.0, 3.5);
        float[] w2 = tree.increment(0.5, 1.25);
        double var1 = 0;
        double var2 = 0;
        double cov = 0;
        for (int i = 0; i < size; i++) {
            var1 += w1[i] * w1[i];
            var2 += w2[i] * w2[i];
            cov += w1[i] * w2[i];
        }
        // Var W(t) - W(s) = t - s; disjoint increments are independent
        assertEquals(1.5, var1 / size, 1.5 * 0.02);
        assertEquals(0.75, var2 / size, 0.75 * 0.02);
        assertEquals(0.0, cov / size / Math.sqrt(1.5 * 0.75), 0.01);
        // additivity: W(2, 3.5) = W(2, 2.7) + W(2.7, 3.5)
        float[] a = tree.increment(2.0, 2.7);
        float[] b = tree.increment(2.7, 3.5);
        for (int i = 0; i < 1000; i++) {
            assertEquals(w1[i], a[i] + b[i], 1e-5);
        }
    }

    @Test
    void brownianTreeDependsOnTheEntropyOnlyNotOnTheQueryOrder() {
        // the halfway (dyadic) tree: the same entropy gives the same path whatever was queried before
        BrownianTree forward = new BrownianTree(0.029167, 14.614647, 64, 123);
        BrownianTree backward = new BrownianTree(0.029167, 14.614647, 64, 123);
        double[][] queries = {{10.0, 14.614647}, {6.5, 10.0}, {1.0, 6.5}, {0.029167, 1.0}, {3.3, 3.4}};
        List<float[]> first = new ArrayList<>();
        for (double[] q : queries) {
            first.add(forward.increment(q[0], q[1]));
        }
        for (int k = queries.length - 1; k >= 0; k--) {
            assertArrayEquals(first.get(k), backward.increment(queries[k][0], queries[k][1]), "query " + k);
        }
        BrownianTree other = new BrownianTree(0.029167, 14.614647, 64, 124);
        assertFalse(java.util.Arrays.equals(first.get(0), other.increment(10.0, 14.614647)));
    }

    @Test
    void timesAreRoundedAsPythonRoundsThem() {
        // round(x, 6) as CPython computes it (correctly rounded, half to even on the exact binary value)
        assertEquals(0.123457, BrownianTree.round(0.12345650000000001));
        assertEquals(14.614647, BrownianTree.round(14.614646911621094));
        // values from CPython 3: round(2.5e-6, 6) == 3e-06, round(1.5e-6, 6) == 2e-06, round(4e-7, 6) == 0.0,
        // round(1.0000005, 6) == 1.000001
        assertEquals(3e-6, BrownianTree.round(2.5e-6), 0.0);
        assertEquals(2e-6, BrownianTree.round(1.5e-6), 0.0);
        assertEquals(0.0, BrownianTree.round(4e-7));
        assertEquals(1.000001, BrownianTree.round(1.0000005), 0.0);
    }

    @Test
    void seedSequenceMatchesNumpy() {
        // np.random.SeedSequence(entropy=0, spawn_key=(5, 3), pool_size=24).generate_state(4) and friends,
        // computed with numpy 2.4
        assertArrayEquals(new long[] {2230703150L, 3316687717L, 788529862L, 3225615604L},
                new SeedSequence(0, new long[] {5, 3}, 24).generateState(4));
        assertArrayEquals(new long[] {4025752534L, 2687548107L, 2326983537L},
                new SeedSequence(0, new long[0], 24).generateState(3));
        assertArrayEquals(new long[] {1614522446L, 2128473930L, 2665677077L, 3566934801L},
                new SeedSequence((1L << 40) + 7, new long[] {(1L << 33) + 1, 34}, 24).generateState(4));
        assertArrayEquals(new long[] {1871439022L, 96831770L, 2072151016L, 3517972590L},
                new SeedSequence(123456789, new long[] {0, 0}, 24).generateState(4));
    }

    @Test
    void samplesTheGaussianDataDistribution() {
        // data N(mu, s^2) in every latent: the exact denoiser is D(x, sigma) = (s^2 x + sigma^2 mu) / (s^2 + sigma^2);
        // the last step (an Euler step to 0) returns D(x) for x ~ N(mu, s^2 + sigma^2), variance s^4 / (s^2 + sigma^2).
        // DPM++ SDE converges slowly in distribution on SD's linspace spacing: measured variance error
        // -30 % at 10 steps, -9 % at 30, -1.9 % at 100, -0.2 % at 300 (50 000 latents)
        double mu = 0.5;
        double sd = 0.5;
        double err10 = varianceError(mu, sd, 10);
        double err100 = varianceError(mu, sd, 100);
        assertTrue(Math.abs(err100) < 0.045, "variance error at 100 steps " + err100);
        assertTrue(Math.abs(err100) < Math.abs(err10) / 5, err10 + " -> " + err100);
    }

    private double varianceError(double mu, double sd, int steps) {
        int n = 20_000;
        SchedulerConfig cfg = SchedulerConfig.sd15();
        SamplerPlan plan = sampler.plan(cfg, steps, null);
        DpmPpSdeSampler.Planned p = DpmPpSdeSampler.planned(cfg, steps, SamplerSettings.DEFAULT);
        Map<Double, Double> sigmaOf = new HashMap<>();
        for (int i = 0; i < steps; i++) {
            sigmaOf.put(plan.timesteps()[i], plan.sigmas()[i]);
        }
        for (int i = 0; i < steps - 1; i++) {
            sigmaOf.put(p.midTimesteps()[i], Math.sqrt(plan.sigmas()[i] * plan.sigmas()[i + 1]));
        }
        double var = sd * sd;
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] in, double t) {
                double sigma = sigmaOf.get(t);
                double cIn = 1 / Math.sqrt(sigma * sigma + 1);
                float[] eps = new float[in.length];
                for (int j = 0; j < in.length; j++) {
                    double x = in[j] / cIn;
                    double d = (var * x + sigma * sigma * mu) / (var + sigma * sigma);
                    eps[j] = (float) ((x - d) / sigma);
                }
                return eps;
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, n};
            }
        };
        SplittableRandom r = new SplittableRandom(3);
        double s0 = plan.sigmas()[0];
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            double u1 = 1 - r.nextDouble();
            double u2 = r.nextDouble();
            x[j] = (float) (mu + Math.sqrt(var + s0 * s0) * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        float[] out = sampler.sample(model, x, plan, 0, seed(11), null);
        double mean = 0;
        for (float v : out) {
            mean += v;
        }
        mean /= n;
        double v2 = 0;
        for (float v : out) {
            v2 += (v - mean) * (v - mean);
        }
        v2 /= n - 1;
        double last = plan.sigmas()[steps - 1];
        assertEquals(mu, mean, 0.01, "mean at " + steps + " steps");
        return v2 / (Math.pow(sd, 4) / (var + last * last)) - 1;
    }

    @Test
    void addNoiseIsTheSigmaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        float sigma = (float) plan.sigmas()[5];
        assertArrayEquals(new float[] {1f + 0.5f * sigma, 2f - sigma}, noisy);
    }

    @Test
    void refusesSamplePrediction() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 4, null);
        assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, seed(1), null));
    }

    @Test
    void declaresItsParametersAndIsAComponent() throws IOException {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("eta", "s_noise"), specs.stream().map(ParameterSpec::name).toList());
        assertTrue(sampler.acceptsSchedule());
        try (InputStream in = getClass().getResourceAsStream(
                "/OSGI-INF/io.jdiffusion.samplers.dpmpp_sde.DpmPpSdeSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"dpmpp_sde\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DPM++ SDE\"/>"), xml);
        }
    }

    private static Denoiser dummyDenoiser() {
        return DiffusersFixtures.dummyDenoiser();
    }

    /** A source that only carries a seed: DPM++ SDE must not draw from it. */
    static NoiseSource seed(long seed) {
        return new NoiseSource() {
            @Override
            public float[] randn(int n) {
                throw new AssertionError("DPM++ SDE's noise comes from the Brownian tree");
            }

            @Override
            public long seed() {
                return seed;
            }
        };
    }
}
