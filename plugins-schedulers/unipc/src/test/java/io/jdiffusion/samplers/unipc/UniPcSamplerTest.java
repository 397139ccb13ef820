package io.jdiffusion.samplers.unipc;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
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

/** Timesteps and sigmas as UniPCMultistepScheduler.set_timesteps makes them, the solver's pieces, and the loop. */
class UniPcSamplerTest {
    private final UniPcSampler sampler = new UniPcSampler();

    @Test
    void sd15TwentyStepsLinspace() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        // np.linspace(0, 999, 21).round()[::-1][:-1]: UniPC's default linspace spacing, steps_offset unused
        assertArrayEquals(new double[] {999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300,
            250, 200, 150, 100, 50}, plan.timesteps());
        assertEquals(14.6146, plan.sigmas()[0], 1e-4);
        assertEquals(0.0, plan.sigmas()[20]); // final_sigmas_type "zero" is UniPC's default
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
    }

    @Test
    void karrasWithSigmaMinEndsOnTheLastKarrasSigma() {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("use_karras_sigmas", true).with("final_sigmas_type", "sigma_min");
        SamplerPlan plan = sampler.plan(cfg, 10, null);
        // UniPC appends sigmas[-1] (the last Karras sigma), where DPM-Solver appends the first training sigma
        assertEquals(plan.sigmas()[9], plan.sigmas()[10], 0.0);
        assertEquals(0.0292, plan.sigmas()[9], 1e-4);
        // config sigma_min / sigma_max bound UniPC's Karras range
        SamplerPlan bounded = sampler.plan(SchedulerConfig.sd15().with("use_karras_sigmas", true)
                .with("sigma_min", 0.1).with("sigma_max", 10.0), 10, null);
        assertEquals(10.0, bounded.sigmas()[0], 1e-5);
        assertEquals(0.1, bounded.sigmas()[9], 1e-6);
        // a schedule from the request replaces the spacing the same way, timesteps rounded
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan fromSettings = sampler.plan(SchedulerConfig.sd15().with("final_sigmas_type", "sigma_min"), 10,
                new SamplerSettings(karras, Map.of()));
        assertArrayEquals(plan.sigmas(), fromSettings.sigmas());
        assertArrayEquals(plan.timesteps(), fromSettings.timesteps());
        for (double t : plan.timesteps()) {
            assertEquals(Math.rint(t), t, 0.0);
        }
    }

    @Test
    void solveIsGaussianEliminationWithPivoting() {
        float[][] a = {{1f, 1f, 1f}, {0.5f, -0.25f, 1f}, {0.25f, 0.0625f, 1f}};
        float[] b = {1f, 2f, 3f};
        float[] x = UniPcSampler.solve(a, b);
        for (int r = 0; r < 3; r++) {
            double sum = 0;
            for (int c = 0; c < 3; c++) {
                sum += a[r][c] * x[c];
            }
            assertEquals(b[r], sum, 1e-5);
        }
        float[][] r = UniPcSampler.rMatrix(new float[] {0.5f, 2f, 1f}, 3);
        assertArrayEquals(new float[] {1f, 1f, 1f}, r[0]);
        assertArrayEquals(new float[] {0.5f, 2f, 1f}, r[1]);
        assertArrayEquals(new float[] {0.25f, 4f, 1f}, r[2]);
    }

    @Test
    void firstStepIsDdimLikeAndTheCorrectorUsesTheNewModelOutput() {
        // with a model that predicts x0 = c, UniP-1 is x_t = (sigma_t / sigma_s) x + alpha_t (1 - e^-h) c,
        // and UniC-1 adds -alpha_t B(h) * 0.5 * (m_t - m_s) = 0 for a constant prediction
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", "sample");
        SamplerPlan plan = sampler.plan(cfg, 10, null);
        UniPcSampler.Stepper stepper = new UniPcSampler.Stepper(plan, 1);
        float[] x = {2f};
        float[] x1 = stepper.step(new float[] {0.4f}, 0, x);
        double[] s = plan.sigmas();
        double a1 = 1 / Math.sqrt(1 + s[1] * s[1]);
        double h = Math.log(s[0] / s[1]);
        double sigmaRatio = s[1] * a1 / (s[0] / Math.sqrt(1 + s[0] * s[0]));
        assertEquals(sigmaRatio * 2 + a1 * (1 - Math.exp(-h)) * 0.4, x1[0], 1e-5);
        // the corrector at the next step: predictions differ by 0.2, so x1 moves by -alpha_1 (e^-h - 1) 0.5 * 0.2
        UniPcSampler.Stepper again = new UniPcSampler.Stepper(plan, 1);
        again.step(new float[] {0.4f}, 0, x);
        UniPcSampler.Stepper same = new UniPcSampler.Stepper(plan, 1);
        same.step(new float[] {0.4f}, 0, x);
        float[] moved = again.step(new float[] {0.6f}, 1, x1);
        float[] constant = same.step(new float[] {0.4f}, 1, x1);
        // undo the (identical) predictor effect of the corrected sample: compare against a run where
        // the corrector sees no change
        double bh = Math.expm1(-h);
        double correction = -a1 * bh * 0.5 * 0.2;
        double s2 = s[2];
        double a2 = 1 / Math.sqrt(1 + s2 * s2);
        double ratio2 = s2 * a2 / (s[1] * a1);
        // the predictor from step 1 is linear in the corrected sample with slope sigma_2 / sigma_1
        // and in the new prediction; the difference of the two runs isolates both
        assertTrue(Math.abs(moved[0] - constant[0]) > 0);
        assertEquals(ratio2 * correction, moved[0] - constant[0] - predictorSlope(plan, 1) * 0.2, 2e-5);
    }

    /** d x_{i+1} / d m_i of UniP-2 (bh2) at step i with a constant previous prediction change: alpha (1 - e^-h) + 0.5 alpha B(h) / r. */
    private static double predictorSlope(SamplerPlan plan, int i) {
        double[] s = plan.sigmas();
        double a = 1 / Math.sqrt(1 + s[i + 1] * s[i + 1]);
        double lt = Math.log(1 / s[i + 1]);
        double l0 = Math.log(1 / s[i]);
        double lp = Math.log(1 / s[i - 1]);
        double h = lt - l0;
        double r = (lp - l0) / h;
        double bh = Math.expm1(-h);
        // x_t = ... - a * expm1(-h) * m0 - a * bh * 0.5 * (m_prev - m0) / r
        return -a * Math.expm1(-h) + a * bh * 0.5 / r;
    }

    @Test
    void sampleIsThePipelineLoop() {
        SchedulerConfig cfg = config("num_train_timesteps", 1000);
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        UniPcSampler.Stepper stepper = new UniPcSampler.Stepper(plan, 4);
        float[] expected = dummySampleDeter();
        for (int i = 4; i < plan.steps(); i++) {
            expected = stepper.step(dummyModel(expected, plan.timesteps()[i]), i, expected);
        }
        List<int[]> reports = new ArrayList<>();
        float[] start = dummySampleDeter();
        float[] got = sampler.sample(dummyDenoiser(), start, plan, 4, null, (d, t) -> reports.add(new int[] {d, t}));
        assertArrayEquals(expected, got);
        assertArrayEquals(dummySampleDeter(), start, "input latents are not modified");
        assertEquals(6, reports.size());
        assertArrayEquals(new int[] {10, 10}, reports.get(5));
    }

    @Test
    void lastStepToSigmaZeroLandsOnTheDataPrediction() {
        float[] x0 = {0.5f, -0.25f};
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15().with("prediction_type", "sample"), 6, null);
        float[] out = sampler.sample(new FixedModel(x0), new float[] {3f, 7f}, plan, 0, null, null);
        assertArrayEquals(x0, out, 1e-6f);
    }

    @Test
    void declaresItsParameters() {
        assertEquals(List.of("solver_order"), sampler.parameters().stream().map(ParameterSpec::name).toList());
        assertEquals(2.0, sampler.parameters().get(0).defaultValue());
        assertTrue(sampler.acceptsSchedule());
    }

    @Test
    void isADeclarativeServicesComponent() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.unipc.UniPcSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"unipc\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"UniPC\"/>"), xml);
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
