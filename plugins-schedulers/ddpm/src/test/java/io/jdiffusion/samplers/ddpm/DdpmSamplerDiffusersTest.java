package io.jdiffusion.samplers.ddpm;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code DDPMScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_ddpm.py (class DDPMSchedulerTest: config num_train_timesteps 1000,
 * beta 0.0001..0.02 linear, variance_type fixed_small, clip_sample True), with the same tolerances.
 * Their full loops never call {@code set_timesteps}: they step through all 1000 training timesteps
 * ({@code previous_timestep} = t - 1), which is the plan for 1000 steps (leading spacing, ratio 1,
 * no offset). Noise comes from {@code torch.manual_seed(0)}, replayed by {@link TorchCpuGenerator}.
 */
class DdpmSamplerDiffusersTest {
    private final DdpmSampler sampler = new DdpmSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
            "beta_schedule", "linear", "variance_type", "fixed_small", "clip_sample", true};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    private float[] fullLoop(SchedulerConfig cfg) {
        SamplerPlan plan = sampler.plan(cfg, 1000, SamplerSettings.DEFAULT);
        return sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, new TorchCpuGenerator(0), null);
    }

    @Test
    void fullLoopNoNoise() {
        float[] sample = fullLoop(testConfig());
        // test_scheduler_ddpm.py test_full_loop_no_noise
        assertEquals(258.9606, absSum(sample), 1e-2);
        assertEquals(0.3372, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction"));
        // test_scheduler_ddpm.py test_full_loop_with_v_prediction
        assertEquals(202.0296, absSum(sample), 1e-2);
        assertEquals(0.2631, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), 1000, null);
        int tStart = 1000 - 2; // timesteps[t_start * order:] = [1, 0]
        float[] sample = sampler.addNoise(dummySampleDeter(), dummyNoiseDeter(), plan, tStart);
        sample = sampler.sample(dummyDenoiser(), sample, plan, tStart, new TorchCpuGenerator(0), null);
        // test_scheduler_ddpm.py test_full_loop_with_noise
        assertEquals(387.9466, absSum(sample), 1e-2);
        assertEquals(0.5051, absMean(sample), 1e-3);
    }

    @Test
    void variance() {
        SchedulerConfig cfg = testConfig();
        // test_scheduler_ddpm.py test_variance (no set_timesteps: previous timestep t - 1)
        assertEquals(0.0, DdpmSampler.variance(cfg, 0, -1), 1e-5);
        assertEquals(0.00979, DdpmSampler.variance(cfg, 487, 486), 1e-5);
        assertEquals(0.02, DdpmSampler.variance(cfg, 999, 998), 1e-5);
    }
}
