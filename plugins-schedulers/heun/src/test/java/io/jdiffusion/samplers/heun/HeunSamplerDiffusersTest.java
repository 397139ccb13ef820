package io.jdiffusion.samplers.heun;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModelFloat64;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.testConfig;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.times;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.Sigmas;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code HeunDiscreteScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_heun.py (class HeunDiscreteSchedulerTest, {@code num_inference_steps = 10},
 * config num_train_timesteps 1100, beta 0.0001..0.02 linear), with the same tolerances. Their loops run over
 * the scheduler's 19 interleaved timesteps and pass the output of {@code scale_model_input} on to
 * {@code step}, so these tests drive the sampler's own {@code scale_model_input} / {@code step} the same way.
 */
class HeunSamplerDiffusersTest {
    private static final int STEPS = 10;

    private final HeunSampler sampler = new HeunSampler();

    /** diffusers' test loop over the interleaved calls from {@code 2 * startStep} ({@code timesteps[t_start * order:]}). */
    static float[] fullLoop(SamplerPlan plan, float[] start, int startStep) {
        HeunSampler.Stepper stepper = new HeunSampler.Stepper(plan);
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
        // test_scheduler_heun.py test_full_loop_no_noise / test_full_loop_device (cpu)
        assertEquals(0.1233, absSum(sample), 1e-2);
        assertEquals(0.0002, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_heun.py test_full_loop_with_v_prediction (cpu)
        assertEquals(4.6934e-07, absSum(sample), 1e-2);
        assertEquals(6.1112e-10, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopKarrasSigmas() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, new SamplerSettings(karras, Map.of()));
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_heun.py test_full_loop_device_karras_sigmas
        assertEquals(0.00015, absSum(sample), 1e-2);
        assertEquals(1.9869554535034695e-07, absMean(sample), 1e-2);

        SamplerPlan fromConfig = sampler.plan(testConfig("use_karras_sigmas", true), STEPS, SamplerSettings.DEFAULT);
        assertArrayEquals(plan.sigmas(), fromConfig.sigmas());
        assertArrayEquals(plan.timesteps(), fromConfig.timesteps());
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        int tStart = STEPS - 2;
        float[] sample = times(dummySampleDeter(), plan.initNoiseSigma());
        sample = sampler.addNoise(sample, dummyNoiseDeter(), plan, tStart);
        sample = fullLoop(plan, sample, tStart);
        // test_scheduler_heun.py test_full_loop_with_noise
        assertEquals(75074.8906, absSum(sample), 1e-2);
        assertEquals(97.7538, absMean(sample), 1e-3);
    }
}
