package io.jdiffusion.samplers.lcm;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code LCMScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_lcm.py (class LCMSchedulerTest: config num_train_timesteps 1000,
 * beta 0.00085..0.012 scaled_linear, prediction_type epsilon; {@code full_loop}: seed 0,
 * {@code set_timesteps(num_inference_steps)}, {@code residual = model(sample, t);
 * sample = step(residual, t, sample, generator)}), with the same tolerances, as of diffusers commit
 * af8a47dd2d2486fd0d9ea4178c3b1058b53f3399. (Earlier versions of that test expected 280.5618 / 0.3653
 * for the multistep loop, from the first LCMScheduler, which also noised the result of the last
 * step; today's scheduler, and this sampler, return the last denoised sample.) Their loop is the
 * pipeline loop, so the sampler's {@code sample} runs it unchanged; the generator is replayed by
 * {@link TorchCpuGenerator}.
 */
class LcmSamplerDiffusersTest {
    private final LcmSampler sampler = new LcmSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.00085, "beta_end", 0.0120,
            "beta_schedule", "scaled_linear", "prediction_type", "epsilon"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    private float[] fullLoop(int steps) {
        SamplerPlan plan = sampler.plan(testConfig(), steps, null);
        return sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, new TorchCpuGenerator(0), null);
    }

    @Test
    void fullLoopOneStep() {
        float[] sample = fullLoop(1);
        // test_scheduler_lcm.py test_full_loop_onestep
        assertEquals(18.7097, absSum(sample), 1e-3);
        assertEquals(0.0244, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopMultistep() {
        float[] sample = fullLoop(10);
        // test_scheduler_lcm.py test_full_loop_multistep
        assertEquals(197.7616, absSum(sample), 1e-3);
        assertEquals(0.2575, absMean(sample), 1e-3);
    }

    @Test
    void hardcodedTimestepsOfTheTests() {
        // test_scheduler_lcm.py test_inference_steps: (t, steps) in zip([99, 39, 19], [10, 25, 50]) are the
        // last timesteps of those schedules
        int[] last = {99, 39, 19};
        int[] steps = {10, 25, 50};
        for (int i = 0; i < 3; i++) {
            double[] ts = sampler.plan(testConfig(), steps[i], null).timesteps();
            assertEquals(steps[i], ts.length);
            assertEquals(last[i], ts[ts.length - 1]);
        }
        // test_timesteps: "timesteps - 1 is" in the schedule (its first entry) for 100, 500, 1000 train steps
        for (int n : new int[] {100, 500, 1000}) {
            assertEquals(n - 1, sampler.plan(testConfig("num_train_timesteps", n), 10, null).timesteps()[0]);
        }
    }
}
