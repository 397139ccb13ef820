package io.jdiffusion.samplers.euler;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code EulerDiscreteScheduler}, from
 * huggingface/diffusers tests/schedulers/test_scheduler_euler.py (class EulerDiscreteSchedulerTest,
 * {@code num_inference_steps = 10}, config num_train_timesteps 1100, beta 0.0001..0.02 linear),
 * with the same tolerances. Their loops pass the output of {@code scale_model_input} on to
 * {@code step}, so these tests drive the sampler's own {@code scale_model_input} / {@code step}
 * the same way.
 */
class EulerSamplerDiffusersTest {
    private static final int STEPS = 10;
    private final EulerSampler sampler = new EulerSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    /** diffusers' {@code full_loop}: sample = scale_model_input(sample, t); out = model(sample, t); sample = step(out, t, sample). */
    private float[] fullLoop(SamplerPlan plan, float[] start, int startStep) {
        EulerSampler.Stepper stepper = new EulerSampler.Stepper(plan);
        float[] sample = start.clone();
        float[] scaled = new float[sample.length];
        for (int i = startStep; i < plan.steps(); i++) {
            stepper.scaleModelInput(sample, i, scaled);
            float[] tmp = sample;
            sample = scaled;
            scaled = tmp;
            float[] out = dummyModel(sample, plan.timesteps()[i]);
            stepper.step(out, i, sample, NO_NOISE);
        }
        return sample;
    }

    private static float[] times(float[] x, double s) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * (float) s;
        }
        return out;
    }

    @Test
    void fullLoopNoNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_euler.py test_full_loop_no_noise / test_full_loop_device
        assertEquals(10.0807, absSum(sample), 1e-2);
        assertEquals(0.0131, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        SamplerPlan plan = sampler.plan(testConfig("prediction_type", "v_prediction"), STEPS, SamplerSettings.DEFAULT);
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_euler.py test_full_loop_with_v_prediction
        assertEquals(0.0002, absSum(sample), 1e-2);
        assertEquals(2.2676e-06, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopKarrasSigmas() {
        NoiseSchedule karras = (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        SamplerPlan plan = sampler.plan(testConfig(), STEPS, new SamplerSettings(karras, Map.of()));
        float[] sample = fullLoop(plan, times(dummySampleDeter(), plan.initNoiseSigma()), 0);
        // test_scheduler_euler.py test_full_loop_device_karras_sigmas
        assertEquals(124.52299499511719, absSum(sample), 1e-2);
        assertEquals(0.16213932633399963, absMean(sample), 1e-3);

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
        // test_scheduler_euler.py test_full_loop_with_noise
        assertEquals(57062.9297, absSum(sample), 1e-2);
        assertEquals(74.3007, absMean(sample), 1e-3);
    }
}
