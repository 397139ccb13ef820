package io.jdiffusion.samplers.dpmpp_2m;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DpmSolverMultistep;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Timesteps and sigmas against values derived from DPMSolverMultistepScheduler.set_timesteps, and the loop's contract. */
class DpmPp2mSamplerTest {
    private final DpmPp2mSampler sampler = new DpmPp2mSampler();

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
        // np.linspace(0, 999, 21).round()[::-1][:-1] (DPMSolverMultistepScheduler's default linspace spacing;
        // linspace ignores steps_offset); 499.5 rounds half to even
        assertArrayEquals(new double[] {999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300,
            250, 200, 150, 100, 50}, plan.timesteps());
        double[] exact = sd15SigmasDouble();
        assertEquals(21, plan.sigmas().length);
        for (int k = 0; k < 20; k++) {
            int t = (int) plan.timesteps()[k];
            assertEquals(exact[t], plan.sigmas()[k], exact[t] * 1e-4, "sigma " + k);
            assertEquals((float) plan.sigmas()[k], plan.sigmas()[k], 0.0);
        }
        assertEquals(14.6146, plan.sigmas()[0], 1e-4);
        assertEquals(0.0, plan.sigmas()[20], 0.0); // final_sigmas_type "zero" by default
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
    }

    @Test
    void leadingAndTrailingSpacing() {
        // leading: step_ratio = 1000 // 21 = 47; arange(21) * 47, reversed without the 0, plus steps_offset 1
        SamplerPlan leading = sampler.plan(SchedulerConfig.sd15().with("timestep_spacing", "leading"), 20, null);
        for (int k = 0; k < 20; k++) {
            assertEquals((20 - k) * 47 + 1, leading.timesteps()[k], 0.0);
        }
        // trailing: round(arange(1000, 0, -50)) - 1
        SamplerPlan trailing = sampler.plan(SchedulerConfig.sd15().with("timestep_spacing", "trailing"), 20, null);
        for (int k = 0; k < 20; k++) {
            assertEquals(999 - 50 * k, trailing.timesteps()[k], 0.0);
        }
        assertEquals(1.0, trailing.initNoiseSigma());
    }

    @Test
    void finalSigmaMinIsTheFirstTrainingSigma() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("final_sigmas_type", "sigma_min"), 20, null);
        assertEquals(sd15SigmasDouble()[0], plan.sigmas()[20], 1e-6);
        assertEquals(0.029167, plan.sigmas()[20], 1e-5);
    }

    @Test
    void karrasSpansTheWholeTrainingRangeWithRoundedTimesteps() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, new SamplerSettings(karras, Map.of()));
        double[] exact = sd15SigmasDouble();
        double sigmaMax = exact[999];
        double sigmaMin = exact[0];
        for (int i = 0; i < 20; i++) {
            double ramp = i / 19.0;
            double expected = Math.pow(Math.pow(sigmaMax, 1 / 7.0) + ramp * (Math.pow(sigmaMin, 1 / 7.0)
                    - Math.pow(sigmaMax, 1 / 7.0)), 7.0);
            assertEquals(expected, plan.sigmas()[i], expected * 1e-4, "sigma " + i);
            // the timestep is the training timestep whose sigma is nearest in log sigma, rounded
            double t = plan.timesteps()[i];
            assertEquals(Math.rint(t), t, 0.0);
            double logSigma = Math.log(plan.sigmas()[i]);
            int lo = 0;
            while (lo < 998 && Math.log(exact[lo + 1]) <= logSigma) {
                lo++;
            }
            double w = (logSigma - Math.log(exact[lo])) / (Math.log(exact[lo + 1]) - Math.log(exact[lo]));
            assertEquals(lo + Math.min(Math.max(w, 0), 1), t, 0.5 + 1e-3, "timestep " + i);
        }
        assertEquals(999.0, plan.timesteps()[0]);
        assertEquals(0.0, plan.timesteps()[19]);
        assertEquals(0.0, plan.sigmas()[20]);
        // use_karras_sigmas in the config gives the same plan
        SamplerPlan fromConfig = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true), 20, null);
        assertArrayEquals(plan.sigmas(), fromConfig.sigmas());
        assertArrayEquals(plan.timesteps(), fromConfig.timesteps());
    }

    @Test
    void exponentialConfigTruncatesTimesteps() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("use_exponential_sigmas", true), 20, null);
        float[] train = Sigmas.fromAlphasCumprod(SchedulerConfig.sd15().alphasCumprod());
        float[] logSigmas = Sigmas.logFloat32(train);
        // _convert_to_exponential over the whole (float32) training range, then _sigma_to_t without .round():
        // torch's int64 cast truncates, so a timestep of 998.9999997 becomes 998
        double[] expected = Sigmas.exponential(20, train[0], train[999]);
        boolean truncatedSomewhere = false;
        for (int i = 0; i < 20; i++) {
            assertEquals(expected[i], plan.sigmas()[i], expected[i] * 1e-6);
            assertEquals(sd15SigmasDouble()[999] * Math.pow(sd15SigmasDouble()[0] / sd15SigmasDouble()[999], i / 19.0),
                    plan.sigmas()[i], plan.sigmas()[i] * 1e-4);
            double t = Sigmas.sigmaToT(expected[i], logSigmas);
            assertEquals(Math.floor(t), plan.timesteps()[i], 0.0, "timestep " + i);
            truncatedSomewhere |= Math.rint(t) != plan.timesteps()[i];
        }
        assertTrue(truncatedSomewhere, "diffusers casts the unrounded timesteps to int64");
    }

    @Test
    void lambdaMinClippedShortensTheCosineSchedule() {
        SchedulerConfig cosine = config("beta_schedule", "squaredcos_cap_v2", "lambda_min_clipped", -5.1);
        SamplerPlan plan = sampler.plan(cosine, 10, null);
        // independent count of training timesteps whose log-SNR log(alpha / sigma) is below -5.1
        int below = 0;
        double abar = 1;
        for (int i = 0; i < 1000; i++) {
            double t1 = (double) i / 1000;
            double t2 = (double) (i + 1) / 1000;
            double beta = Math.min(1 - cosAbar(t2) / cosAbar(t1), 0.999);
            abar *= 1 - beta;
            if (0.5 * Math.log(abar / (1 - abar)) < -5.1) {
                below++;
            }
        }
        assertTrue(below > 0);
        assertEquals(1000 - below - 1, plan.timesteps()[0], 0.0);
        SamplerPlan unclipped = sampler.plan(config("beta_schedule", "squaredcos_cap_v2"), 10, null);
        assertEquals(999.0, unclipped.timesteps()[0]);
    }

    private static double cosAbar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    @Test
    void sampleIsThePipelineLoop() {
        SchedulerConfig cfg = config("num_train_timesteps", 1000);
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        DpmSolverMultistep solver = new DpmPp2mSampler().solver(plan, 4);
        float[] expected = dummySampleDeter();
        for (int i = 2; i < plan.steps(); i++) {
            solver.step(dummyModel(expected, plan.timesteps()[i]), i, expected, null);
        }
        List<int[]> reports = new ArrayList<>();
        float[] start = dummySampleDeter();
        float[] got = sampler.sample(dummyDenoiser(), start, plan, 2, null, (d, t) -> reports.add(new int[] {d, t}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(8, reports.size());
        assertArrayEquals(new int[] {3, 10}, reports.get(0));
        assertArrayEquals(new int[] {10, 10}, reports.get(7));
    }

    @Test
    void lastStepToSigmaZeroLandsOnTheDataPrediction() {
        float[] x0 = {0.5f, -0.25f, 2f};
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 5, null);
        float[] out = sampler.sample(new FixedModel(x0), new float[] {3f, 7f, -1f}, plan, 0, null, null);
        assertArrayEquals(x0, out, 0f);
    }

    @Test
    void secondOrderIsExactForALinearInLambdaDataPrediction() {
        // DPM-Solver++(2M) integrates x(lambda) exactly when the data prediction is constant: then each
        // step is the exact solution x_t = (sigma_t / sigma_s) x_s + alpha_t (1 - e^-h) x0 in float32
        float[] x0 = {0.3f};
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample")
                .with("final_sigmas_type", "sigma_min"), 20, null);
        float xT = 1.7f;
        float[] out = sampler.sample(new FixedModel(x0), new float[] {xT}, plan, 0, null, null);
        double sT = plan.sigmas()[0];
        double s0 = plan.sigmas()[20];
        double alphaT = 1 / Math.sqrt(sT * sT + 1);
        double alpha0 = 1 / Math.sqrt(s0 * s0 + 1);
        // exact ODE solution: x / alpha - x0 scales with sigma (k-diffusion form)
        double expected = alpha0 * (x0[0] + (xT / alphaT - x0[0]) * s0 / sT);
        assertEquals(expected, out[0], 1e-5);
    }

    @Test
    void addNoiseIsTheAlphaSigmaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float[] noisy = sampler.addNoise(new float[] {1f, 2f}, new float[] {0.5f, -1f}, plan, 5);
        double sigma = plan.sigmas()[5];
        double alpha = 1 / Math.sqrt(sigma * sigma + 1);
        assertEquals(alpha * 1 + alpha * sigma * 0.5, noisy[0], 1e-6);
        assertEquals(alpha * 2 - alpha * sigma, noisy[1], 1e-6);
    }

    @Test
    void declaresItsParametersAndAcceptsSchedules() {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(List.of("solver_order"), specs.stream().map(ParameterSpec::name).toList());
        assertEquals(2.0, specs.get(0).defaultValue());
        assertTrue(sampler.acceptsSchedule());
    }

    @Test
    void isADeclarativeServicesComponent() throws IOException {
        try (InputStream in = getClass().getResourceAsStream(
                "/OSGI-INF/io.jdiffusion.samplers.dpmpp_2m.DpmPp2mSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"dpmpp_2m\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DPM++ 2M\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }

    private record FixedModel(float[] value) implements Denoiser {
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
