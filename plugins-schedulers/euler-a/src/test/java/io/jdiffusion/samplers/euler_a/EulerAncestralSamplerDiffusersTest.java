package io.jdiffusion.samplers.euler_a;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.times;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code EulerAncestralDiscreteScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_euler_ancestral.py (class EulerAncestralDiscreteSchedulerTest,
 * {@code num_inference_steps = 10}, config num_train_timesteps 1100, beta 0.0001..0.02 linear,
 * {@code generator = torch.manual_seed(0)}), with the same tolerances. Their loops pass the output of
 * {@code scale_model_input} on to {@code step}, so these tests drive the sampler's own
 * {@code scale_model_input} / {@code step} the same way; the noise is PyTorch's CPU generator
 * ({@link TorchCpuGenerator}), one {@code randn(768)} per step.
 */
class EulerAncestralSamplerDiffusersTest {
    private static final int STEPS = 10;

    private final EulerAncestralSampler sampler = new EulerAncestralSampler();

    /** diffusers' test loop: sample = scale_model_input(sample, t); out = model(sample, t); sample = step(out, t, sample). */
    private static float[] fullLoop(SamplerPlan plan, float[] start, int startStep, NoiseSource generator) {
        EulerAncestralSampler.Stepper stepper = new EulerAncestralSampler.Stepper(plan);
        float[] sample = start.clone();
        float[] scaled = new float[sample.length];
        for (int i = startStep; i < plan.steps(); i++) {
            stepper.scaleModelInput(sample, i, scaled);
            float[] tmp = sample;
            sample = scaled;
            scaled = tmp;
            float[] out = dummyModelFloat64(sample, plan.timesteps()[i]);
            stepper.step(out, i, sample, generator);
        }
        return sample;
    }

    @Test
    void fullLoopNoNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0, new TorchCpuGenerator(0));
        // test_scheduler_euler_ancestral.py test_full_loop_no_noise / test_full_loop_device
        assertEquals(152.3192, absSum(sample), 1e-2);
        assertEquals(0.1983, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0, new TorchCpuGenerator(0));
        // test_scheduler_euler_ancestral.py test_full_loop_with_v_prediction
        assertEquals(108.4439, absSum(sample), 1e-2);
        assertEquals(0.1412, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        int tStart = STEPS - 2;
        float[] sample = times(dummySampleDeter(), plan.initNoiseSigma());
        sample = sampler.addNoise(sample, dummyNoiseDeter(), plan, tStart);
        sample = fullLoop(plan, sample, tStart, new TorchCpuGenerator(0));
        // test_scheduler_euler_ancestral.py test_full_loop_with_noise
        assertEquals(56163.0508, absSum(sample), 1e-2);
        assertEquals(73.1290, absMean(sample), 1e-3);
    }
}
