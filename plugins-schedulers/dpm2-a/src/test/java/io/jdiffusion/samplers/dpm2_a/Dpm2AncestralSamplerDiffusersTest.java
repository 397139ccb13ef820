package io.jdiffusion.samplers.dpm2_a;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.times;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code KDPM2AncestralDiscreteScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_kdpm2_ancestral.py (class KDPM2AncestralDiscreteSchedulerTest,
 * {@code num_inference_steps = 10}, config num_train_timesteps 1100, beta 0.0001..0.02 linear,
 * {@code generator = torch.manual_seed(0)}), with the same tolerances. Their loops run over the scheduler's
 * 19 interleaved timesteps and pass the output of {@code scale_model_input} on to {@code step}, so these tests
 * drive the sampler's own {@code scale_model_input} / {@code step} the same way; the noise is PyTorch's CPU
 * generator ({@link TorchCpuGenerator}), one {@code randn(768)} after each second-order call.
 */
class Dpm2AncestralSamplerDiffusersTest {
    private static final int STEPS = 10;

    private final Dpm2AncestralSampler sampler = new Dpm2AncestralSampler();

    /** diffusers' test loop over the interleaved calls from {@code 2 * startStep} ({@code timesteps[t_start * order:]}). */
    static float[] fullLoop(SamplerPlan plan, float[] start, int startStep, NoiseSource generator) {
        Dpm2AncestralSampler.Stepper stepper = new Dpm2AncestralSampler.Stepper(plan);
        float[] sample = start.clone();
        float[] scaled = new float[sample.length];
        for (int k = 2 * startStep; k < stepper.calls(); k++) {
            stepper.scaleModelInput(sample, k, scaled);
            float[] tmp = sample;
            sample = scaled;
            scaled = tmp;
            float[] out = dummyModelFloat64(sample, stepper.timestep(k));
            stepper.step(out, k, sample, generator);
        }
        return sample;
    }

    @Test
    void fullLoopNoNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0, new TorchCpuGenerator(0));
        // test_scheduler_kdpm2_ancestral.py test_full_loop_no_noise (and test_full_loop_device, sum within 1e-1)
        assertEquals(13979.9433, absSum(sample), 1e-2);
        assertEquals(18.2030, absMean(sample), 5e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0, new TorchCpuGenerator(0));
        // test_scheduler_kdpm2_ancestral.py test_full_loop_with_v_prediction
        assertEquals(331.8133, absSum(sample), 1e-2);
        assertEquals(0.4320, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        int tStart = STEPS - 2;
        float[] sample = times(dummySampleDeter(), plan.initNoiseSigma());
        sample = sampler.addNoise(sample, dummyNoiseDeter(), plan, tStart);
        sample = fullLoop(plan, sample, tStart, new TorchCpuGenerator(0));
        // test_scheduler_kdpm2_ancestral.py test_full_loop_with_noise
        assertEquals(93087.3437, absSum(sample), 1e-2);
        assertEquals(121.2074, absMean(sample), 5e-3);
    }

    @Test
    void squaredcosScheduleGivesFiniteTimestepsAndSigmas() {
        // test_scheduler_kdpm2_ancestral.py test_set_timesteps_squaredcos_cap_v2_no_nan (diffusers issue 14213)
        SamplerPlan plan = sampler.plan(testConfig("beta_schedule", "squaredcos_cap_v2"), 4, null);
        Dpm2AncestralSampler.Stepper stepper = new Dpm2AncestralSampler.Stepper(plan);
        for (int k = 0; k < stepper.calls(); k++) {
            assertTrue(Double.isFinite(stepper.timestep(k)), "timestep " + k);
        }
        for (int k = 0; k <= stepper.calls() + 1; k++) {
            assertTrue(Float.isFinite(stepper.sigma(k)) && Float.isFinite(stepper.sigmaInterpol(k))
                    && Float.isFinite(stepper.sigmaUp(k)) && Float.isFinite(stepper.sigmaDown(k)), "sigma " + k);
        }
    }
}
