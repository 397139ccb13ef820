package io.jdiffusion.samplers.dpm2;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.times;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code KDPM2DiscreteScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_kdpm2_discrete.py (class KDPM2DiscreteSchedulerTest, {@code num_inference_steps = 10},
 * config num_train_timesteps 1100, beta 0.0001..0.02 linear), with the same tolerances. Their loops run over
 * the scheduler's 19 interleaved timesteps and pass the output of {@code scale_model_input} on to
 * {@code step}, so these tests drive the sampler's own {@code scale_model_input} / {@code step} the same way.
 */
class Dpm2SamplerDiffusersTest {
    private static final int STEPS = 10;

    private final Dpm2Sampler sampler = new Dpm2Sampler();

    /** diffusers' test loop over the interleaved calls from {@code 2 * startStep} ({@code timesteps[t_start * order:]}). */
    static float[] fullLoop(SamplerPlan plan, float[] start, int startStep) {
        Dpm2Sampler.Stepper stepper = new Dpm2Sampler.Stepper(plan);
        float[] sample = start.clone();
        float[] scaled = new float[sample.length];
        for (int k = 2 * startStep; k < stepper.calls(); k++) {
            stepper.scaleModelInput(sample, k, scaled);
            float[] tmp = sample;
            sample = scaled;
            scaled = tmp;
            float[] out = dummyModelFloat64(sample, stepper.timestep(k));
            stepper.step(out, k, sample);
        }
        return sample;
    }

    @Test
    void fullLoopNoNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_kdpm2_discrete.py test_full_loop_no_noise / test_full_loop_device (cpu)
        assertEquals(20.4125, absSum(sample), 1e-2);
        assertEquals(0.0266, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_kdpm2_discrete.py test_full_loop_with_v_prediction (cpu)
        assertEquals(4.6934e-07, absSum(sample), 1e-2);
        assertEquals(6.1112e-10, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        int tStart = STEPS - 2;
        float[] sample = times(dummySampleDeter(), plan.initNoiseSigma());
        sample = sampler.addNoise(sample, dummyNoiseDeter(), plan, tStart);
        sample = fullLoop(plan, sample, tStart);
        // test_scheduler_kdpm2_discrete.py test_full_loop_with_noise
        assertEquals(70408.4062, absSum(sample), 1e-2);
        assertEquals(91.6776, absMean(sample), 1e-3);
    }
}
