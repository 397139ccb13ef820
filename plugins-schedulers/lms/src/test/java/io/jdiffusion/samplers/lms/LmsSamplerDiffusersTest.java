package io.jdiffusion.samplers.lms;

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
 * diffusers' own expectations for {@code LMSDiscreteScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_lms.py (class LMSDiscreteSchedulerTest, {@code num_inference_steps = 10},
 * config num_train_timesteps 1100, beta 0.0001..0.02 linear; the same numbers are asserted for
 * FastLMSDiscreteScheduler in test_scheduler_fast_lms.py), with the same tolerances. Their loops pass the
 * output of {@code scale_model_input} on to {@code step}, so these tests drive the sampler's own
 * {@code scale_model_input} / {@code step} the same way.
 */
class LmsSamplerDiffusersTest {
    private static final int STEPS = 10;

    private final LmsSampler sampler = new LmsSampler();

    /** diffusers' test loop: sample = scale_model_input(sample, t); out = model(sample, t); sample = step(out, t, sample). */
    static float[] fullLoop(SamplerPlan plan, float[] start, int startStep) {
        LmsSampler.Stepper stepper = new LmsSampler.Stepper(plan);
        float[] sample = start.clone();
        float[] scaled = new float[sample.length];
        for (int i = startStep; i < plan.steps(); i++) {
            stepper.scaleModelInput(sample, i, scaled);
            float[] tmp = sample;
            sample = scaled;
            scaled = tmp;
            float[] out = dummyModelFloat64(sample, plan.timesteps()[i]);
            stepper.step(out, i, sample);
        }
        return sample;
    }

    @Test
    void fullLoopNoNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_lms.py test_full_loop_no_noise / test_full_loop_device
        assertEquals(1006.388, absSum(sample), 1e-2);
        assertEquals(1.31, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_lms.py test_full_loop_with_v_prediction
        assertEquals(0.0017, absSum(sample), 1e-2);
        assertEquals(2.2676e-06, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopKarrasSigmas() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, new SamplerSettings(karras, Map.of()));
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_lms.py test_full_loop_device_karras_sigmas (tolerance 1e-2 there, 2e-2 in the newest)
        assertEquals(3812.9927, absSum(sample), 1e-2);
        assertEquals(4.9648, absMean(sample), 1e-3);

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
        // test_scheduler_lms.py test_full_loop_with_noise (also test_scheduler_fast_lms.py)
        assertEquals(27663.6895, absSum(sample), 1e-2);
        assertEquals(36.0204, absMean(sample), 1e-3);
    }
}
