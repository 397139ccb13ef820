package io.jdiffusion.samplers.pndm;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.samplers.testkit.DiffusersFixtures;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code PNDMScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_pndm.py (class PNDMSchedulerTest: config num_train_timesteps 1000,
 * beta 0.0001..0.02 linear, so skip_prk_steps False and set_alpha_to_one False by default;
 * {@code full_loop}: 10 steps, {@code step_prk} over {@code prk_timesteps} then {@code step_plms} over
 * {@code plms_timesteps}, {@code residual = model(sample, t)}), with the same tolerances. That loop
 * visits exactly the plan's timesteps and calls what the counter-driven {@code step} calls, so the
 * sampler's {@code sample} runs it unchanged.
 */
class PndmSamplerDiffusersTest {
    private final PndmSampler sampler = new PndmSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    private float[] fullLoop(SchedulerConfig cfg) {
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        return sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, NO_NOISE, null);
    }

    @Test
    void fullLoopNoNoise() {
        float[] sample = fullLoop(testConfig());
        // test_scheduler_pndm.py test_full_loop_no_noise
        assertEquals(198.1318, absSum(sample), 1e-2);
        assertEquals(0.2580, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction"));
        // test_scheduler_pndm.py test_full_loop_with_v_prediction
        assertEquals(67.3986, absSum(sample), 1e-2);
        assertEquals(0.0878, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithSetAlphaToOne() {
        float[] sample = fullLoop(testConfig("set_alpha_to_one", true, "beta_start", 0.01));
        // test_scheduler_pndm.py test_full_loop_with_set_alpha_to_one
        assertEquals(230.0399, absSum(sample), 1e-2);
        assertEquals(0.2995, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoSetAlphaToOne() {
        float[] sample = fullLoop(testConfig("set_alpha_to_one", false, "beta_start", 0.01));
        // test_scheduler_pndm.py test_full_loop_with_no_set_alpha_to_one
        assertEquals(186.9482, absSum(sample), 1e-2);
        assertEquals(0.2434, absMean(sample), 1e-3);
    }

    @Test
    void stepsOffset() {
        SamplerPlan plan = sampler.plan(testConfig("steps_offset", 1), 10, null);
        // test_scheduler_pndm.py test_steps_offset
        assertArrayEquals(new double[] {901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401,
            301, 201, 101, 1}, plan.timesteps());
    }

    @Test
    void lowInferenceStepsPrkValidation() {
        // test_scheduler_pndm.py test_pndm_low_inference_steps_prk_validation
        for (int n = 1; n <= 3; n++) {
            int steps = n;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sampler.plan(testConfig("skip_prk_steps", false), steps, null));
            assertTrue(e.getMessage().contains("steps >= 4"), e.getMessage());
        }
        assertDoesNotThrow(() -> sampler.plan(testConfig("skip_prk_steps", false), 4, null));
        for (int n = 1; n <= 4; n++) {
            int steps = n;
            assertDoesNotThrow(() -> sampler.plan(testConfig("skip_prk_steps", true), steps, null));
        }
    }

    @Test
    void powerOfThreeInferenceSteps() {
        // test_scheduler_pndm.py test_pow_of_3_inference_steps: 27 steps, the first two prk steps run
        SamplerPlan plan = sampler.plan(testConfig(), 27, null);
        PndmSampler.Stepper stepper = new PndmSampler.Stepper(plan);
        float[] sample = DiffusersFixtures.dummySampleDeter();
        float[] residual = new float[sample.length];
        for (int i = 0; i < sample.length; i++) {
            residual[i] = 0.1f * sample[i];
        }
        for (int i = 0; i < 2; i++) {
            sample = stepper.step(residual, (int) plan.timesteps()[i], sample);
        }
        assertEquals(2, stepper.counter());
    }

    @Test
    void plmsWithoutPastResidualsFails() {
        // test_scheduler_pndm.py test_inference_plms_no_past_residuals
        SamplerPlan plan = sampler.plan(testConfig(), 10, null);
        PndmSampler.Stepper stepper = new PndmSampler.Stepper(plan);
        float[] sample = dummySampleDeter();
        assertThrows(IllegalStateException.class, () -> stepper.stepPlms(sample, 1, sample));
    }
}
