package io.jdiffusion.samplers.ddim;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.samplers.testkit.ConstantModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Timesteps against independently known values, and the step's arithmetic against the DDIM formulas in double. */
class DdimSamplerTest {
    private final DdimSampler sampler = new DdimSampler();

    @Test
    void sd15TwentySteps() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        // leading spacing (DDIMScheduler's default): arange(20) * (1000 // 20), reversed, + steps_offset 1
        double[] expected = new double[20];
        for (int k = 0; k < 20; k++) {
            expected[k] = 951 - 50 * k;
        }
        assertArrayEquals(expected, plan.timesteps());
        assertNull(plan.sigmas());
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
    }

    @Test
    void timestepSpacingsOfTable2() {
        // "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2: 1000 train steps, 10 steps
        SchedulerConfig base = config("num_train_timesteps", 1000);
        assertArrayEquals(new double[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0},
                sampler.plan(base, 10, null).timesteps());
        assertArrayEquals(new double[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                sampler.plan(base.with("timestep_spacing", "linspace"), 10, null).timesteps());
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                sampler.plan(base.with("timestep_spacing", "trailing"), 10, null).timesteps());
        // linspace rounds half to even, as np.round: linspace(0, 999, 3) = 0, 499.5, 999
        assertArrayEquals(new double[] {999, 500, 0},
                sampler.plan(base.with("timestep_spacing", "linspace"), 3, null).timesteps());
        assertThrows(IllegalArgumentException.class, () -> sampler.plan(base, 1001, null));
    }

    @Test
    void etaOneStepMatchesTheFormulaAndDrawsNoiseOnce() {
        SchedulerConfig cfg = SchedulerConfig.sd15(); // clip_sample false, set_alpha_to_one false
        SamplerPlan plan = sampler.plan(cfg, 20, new SamplerSettings(null, Map.of("eta", 1.0)));
        float[] x = {1f, -0.5f, 2f};
        float[] z = {0.3f, -1.2f, 0.7f};
        List<Integer> draws = new ArrayList<>();
        NoiseSource noise = new NoiseSource() {
            @Override
            public float[] randn(int n) {
                draws.add(n);
                return z.clone();
            }

            @Override
            public long seed() {
                return 7;
            }
        };
        int i = 18; // t = 51 -> prev 1
        float[] out = sampler.sample(new ConstantModel(0.2f, 3), x, plan, i, noise, null);
        assertEquals(List.of(3, 3), draws, "one draw per step after the update");

        // replay step 18 alone in double, then step 19 (t = 1 -> prev -49: final_alpha_cumprod = abar_0)
        float[] ac = cfg.alphasCumprod();
        double[] xs = {x[0], x[1], x[2]};
        for (int step = 18; step < 20; step++) {
            int t = (int) plan.timesteps()[step];
            int prev = t - 50;
            double a = ac[t];
            double ap = prev >= 0 ? ac[prev] : ac[0];
            double variance = (1 - ap) / (1 - a) * (1 - a / ap);
            double std = Math.sqrt(variance);
            for (int j = 0; j < 3; j++) {
                double x0 = (xs[j] - Math.sqrt(1 - a) * 0.2) / Math.sqrt(a);
                xs[j] = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - std * std) * 0.2 + std * z[j];
            }
        }
        for (int j = 0; j < 3; j++) {
            assertEquals(xs[j], out[j], 1e-5 * Math.max(1, Math.abs(xs[j])));
        }
    }

    @Test
    void clipSampleRangeAndPredictionTypes() {
        // with a sample-predicting model and clipping to 0.5, the last step lands on the clipped x0
        SchedulerConfig cfg = config("prediction_type", "sample", "clip_sample", true, "clip_sample_range", 0.5,
                "set_alpha_to_one", true);
        SamplerPlan plan = sampler.plan(cfg, 10, null);
        float[] out = sampler.sample(new ConstantModel(0.9f, 2), new float[] {1f, 1f}, plan, 9, null, null);
        assertArrayEquals(new float[] {0.5f, 0.5f}, out);

        // v-prediction: x0 = sqrt(a) x - sqrt(1 - a) v; with set_alpha_to_one the last step returns x0
        SchedulerConfig v = config("prediction_type", "v_prediction", "clip_sample", false);
        SamplerPlan vp = sampler.plan(v, 10, null);
        float[] got = sampler.sample(new ConstantModel(0.25f, 1), new float[] {2f}, vp, 9, null, null);
        double a = v.alphasCumprod()[0];
        assertEquals(Math.sqrt(a) * 2 - Math.sqrt(1 - a) * 0.25, got[0], 1e-6);
    }

    @Test
    void dynamicThresholdingAsTorchQuantile() {
        float[] sorted = new float[256];
        for (int i = 0; i < sorted.length; i++) {
            sorted[i] = i / 100f;
        }
        // torch.quantile(linear): rank = 0.995 * 255 = 253.725 -> 2.53 + 0.725 * 0.01
        assertEquals(2.53725, DdimSampler.quantile(sorted, 0.995f), 1e-5);
        float[] x0 = {3f, -3f, 0.5f, 2f};
        DdimSampler.threshold(x0, 1, 0.5f, 2f);
        // s = clamp(quantile(|x0|, 0.5) = 2.5, 1, 2) = 2: clamp(x0, -2, 2) / 2
        assertArrayEquals(new float[] {1f, -1f, 0.25f, 1f}, x0);
        float[] rows = {3f, 0.5f, 0.2f, 0.1f};
        DdimSampler.threshold(rows, 2, 1f, 10f);
        // per image: s = 3 for the first, clamped up to 1 for the second
        assertArrayEquals(new float[] {1f, 0.5f / 3f, 0.2f, 0.1f}, rows);
    }

    @Test
    void addNoiseIsAlphaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float a = SchedulerConfig.sd15().alphasCumprod()[(int) plan.timesteps()[4]];
        float[] noisy = sampler.addNoise(new float[] {1f, -2f}, new float[] {0.5f, 0.25f}, plan, 4);
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        assertArrayEquals(new float[] {sa * 1f + sb * 0.5f, sa * -2f + sb * 0.25f}, noisy);
    }

    @Test
    void reportsProgressAndLeavesInputAlone() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 5, null);
        float[] x = {1f, 2f};
        List<String> reports = new ArrayList<>();
        List<Double> seen = new ArrayList<>();
        Denoiser model = new ConstantModel(0f, 2) {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                seen.add(timestep);
                return super.predict(modelInput, timestep);
            }
        };
        sampler.sample(model, x, plan, 2, null, (done, total) -> reports.add(done + "/" + total));
        assertEquals(List.of("3/5", "4/5", "5/5"), reports);
        assertEquals(List.of(401.0, 201.0, 1.0), seen);
        assertArrayEquals(new float[] {1f, 2f}, x);
    }

    @Test
    void declaresEta() {
        List<ParameterSpec> specs = sampler.parameters();
        assertEquals(1, specs.size());
        assertEquals(new ParameterSpec("eta", 0.0, 0.0, 1.0, specs.get(0).help()), specs.get(0));
    }

    @Test
    void isADeclarativeServicesComponentNamedDdim() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.ddim.DdimSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"ddim\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"DDIM\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }

}
