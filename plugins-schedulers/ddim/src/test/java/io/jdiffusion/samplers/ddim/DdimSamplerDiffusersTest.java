package io.jdiffusion.samplers.ddim;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code DDIMScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_ddim.py (class DDIMSchedulerTest: config num_train_timesteps 1000,
 * beta 0.0001..0.02 linear, clip_sample True; {@code full_loop}: 10 steps, eta 0,
 * {@code residual = model(sample, t); sample = step(residual, t, sample, eta)}), same tolerances.
 * Their loop is the pipeline loop, so the sampler's {@code sample} runs it unchanged.
 */
class DdimSamplerDiffusersTest {
    private final DdimSampler sampler = new DdimSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
            "beta_schedule", "linear", "clip_sample", true};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    private float[] fullLoop(SchedulerConfig cfg) {
        SamplerPlan plan = sampler.plan(cfg, 10, new SamplerSettings(null, Map.of("eta", 0.0)));
        return sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, NO_NOISE, null);
    }

    @Test
    void fullLoopNoNoise() {
        float[] sample = fullLoop(testConfig());
        // test_scheduler_ddim.py test_full_loop_no_noise
        assertEquals(172.0067, absSum(sample), 1e-2);
        assertEquals(0.223967, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction"));
        // test_scheduler_ddim.py test_full_loop_with_v_prediction
        assertEquals(52.5302, absSum(sample), 1e-2);
        assertEquals(0.0684, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithSetAlphaToOne() {
        float[] sample = fullLoop(testConfig("set_alpha_to_one", true, "beta_start", 0.01));
        // test_scheduler_ddim.py test_full_loop_with_set_alpha_to_one
        assertEquals(149.8295, absSum(sample), 1e-2);
        assertEquals(0.1951, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoSetAlphaToOne() {
        float[] sample = fullLoop(testConfig("set_alpha_to_one", false, "beta_start", 0.01));
        // test_scheduler_ddim.py test_full_loop_with_no_set_alpha_to_one
        assertEquals(149.0784, absSum(sample), 1e-2);
        assertEquals(0.1941, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        int tStart = 8;
        float[] sample = sampler.addNoise(dummySampleDeter(), dummyNoiseDeter(), plan, tStart);
        sample = sampler.sample(dummyDenoiser(), sample, plan, tStart, NO_NOISE, null);
        // test_scheduler_ddim.py test_full_loop_with_noise
        assertEquals(354.5418, absSum(sample), 1e-2);
        assertEquals(0.4616, absMean(sample), 1e-3);
    }

    @Test
    void stepsOffset() {
        SamplerPlan plan = sampler.plan(testConfig("steps_offset", 1), 5, null);
        // test_scheduler_ddim.py test_steps_offset
        assertArrayEquals(new double[] {801, 601, 401, 201, 1}, plan.timesteps());
    }

    @Test
    void variance() {
        SchedulerConfig cfg = testConfig();
        // test_scheduler_ddim.py test_variance
        assertEquals(0.0, DdimSampler.variance(cfg, 0, 0), 1e-5);
        assertEquals(0.14771, DdimSampler.variance(cfg, 420, 400), 1e-5);
        assertEquals(0.32460, DdimSampler.variance(cfg, 980, 960), 1e-5);
        assertEquals(0.00979, DdimSampler.variance(cfg, 487, 486), 1e-5);
        assertEquals(0.02, DdimSampler.variance(cfg, 999, 998), 1e-5);
    }
}
