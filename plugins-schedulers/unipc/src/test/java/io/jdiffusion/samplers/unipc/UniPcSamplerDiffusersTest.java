package io.jdiffusion.samplers.unipc;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.samplers.testkit.DiffusersFixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code UniPCMultistepScheduler}, from huggingface/diffusers
 * tests/schedulers/test_scheduler_unipc.py (class UniPCMultistepSchedulerTest and its 1-D variant
 * UniPCMultistepScheduler1DTest: num_train_timesteps 1000, beta 0.0001..0.02 linear, solver_order 2,
 * bh2, final_sigmas_type sigma_min; {@code full_loop}: 10 steps, {@code residual = model(sample, t);
 * sample = step(residual, t, sample)}), same tolerances. Their loop is the pipeline loop (the input is
 * not scaled), so the sampler's {@code sample} runs it.
 */
class UniPcSamplerDiffusersTest {
    private final UniPcSampler sampler = new UniPcSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
            "beta_schedule", "linear", "solver_order", 2, "solver_type", "bh2", "final_sigmas_type", "sigma_min"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(all);
    }

    private float[] fullLoop(SchedulerConfig cfg, float[] start, int[] shape) {
        SamplerPlan plan = sampler.plan(cfg, 10, SamplerSettings.DEFAULT);
        return sampler.sample(denoiser(shape), start, plan, 0, NO_NOISE, null);
    }

    private float[] fullLoop4d(SchedulerConfig cfg) {
        return fullLoop(cfg, DiffusersFixtures.dummySampleDeter(), new int[] {4, 3, 8, 8});
    }

    private float[] fullLoop1d(SchedulerConfig cfg) {
        return fullLoop(cfg, sampleDeter1d(), new int[] {4, 3, 8});
    }

    @Test
    void fullLoopNoNoise() {
        // test_scheduler_unipc.py test_full_loop_no_noise (and test_switch)
        assertEquals(0.2464, absMean(fullLoop4d(testConfig())), 1e-3);
    }

    @Test
    void fullLoopWithKarras() {
        // test_scheduler_unipc.py test_full_loop_with_karras
        assertEquals(0.2925, absMean(fullLoop4d(testConfig("use_karras_sigmas", true))), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        // test_scheduler_unipc.py test_full_loop_with_v_prediction
        assertEquals(0.1014, absMean(fullLoop4d(testConfig("prediction_type", "v_prediction"))), 1e-3);
    }

    @Test
    void fullLoopWithKarrasAndVPrediction() {
        // test_scheduler_unipc.py test_full_loop_with_karras_and_v_prediction
        assertEquals(0.1966, absMean(fullLoop4d(testConfig("prediction_type", "v_prediction",
                "use_karras_sigmas", true))), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        int tStart = 8;
        float[] sample = sampler.addNoise(DiffusersFixtures.dummySampleDeter(), DiffusersFixtures.dummyNoiseDeter(),
                plan, tStart);
        sample = sampler.sample(denoiser(new int[] {4, 3, 8, 8}), sample, plan, tStart, NO_NOISE, null);
        // test_scheduler_unipc.py test_full_loop_with_noise
        assertEquals(315.5757, absSum(sample), 1e-2);
        assertEquals(0.4109, absMean(sample), 1e-3);
    }

    @Test
    void oneDimensionalFullLoops() {
        // test_scheduler_unipc.py UniPCMultistepScheduler1DTest
        assertEquals(0.2441, absMean(fullLoop1d(testConfig())), 1e-3); // test_full_loop_no_noise, test_switch
        assertEquals(0.2898, absMean(fullLoop1d(testConfig("use_karras_sigmas", true))), 1e-3);
        assertEquals(0.1014, absMean(fullLoop1d(testConfig("prediction_type", "v_prediction"))), 1e-3);
        assertEquals(0.1944, absMean(fullLoop1d(testConfig("prediction_type", "v_prediction",
                "use_karras_sigmas", true))), 1e-3);
    }

    @Test
    void oneDimensionalFullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        float[] sample = sampler.addNoise(sampleDeter1d(), noiseDeter1d(), plan, 8);
        sample = sampler.sample(denoiser(new int[] {4, 3, 8}), sample, plan, 8, NO_NOISE, null);
        // test_scheduler_unipc.py UniPCMultistepScheduler1DTest.test_full_loop_with_noise
        assertEquals(39.0870, absSum(sample), 1e-2);
        assertEquals(0.4072, absMean(sample), 1e-3);
    }

    @Test
    void allOrdersAndSolverTypesStayFinite() {
        // test_scheduler_unipc.py test_solver_order_and_type: no NaN for bh1/bh2, orders 1-3, epsilon/sample
        for (String type : new String[] {"bh1", "bh2"}) {
            for (int order = 1; order <= 3; order++) {
                for (String prediction : new String[] {"epsilon", "sample"}) {
                    SchedulerConfig cfg = testConfig("solver_type", type, "prediction_type", prediction);
                    SamplerPlan plan = sampler.plan(cfg, 10, new SamplerSettings(null, Map.of("solver_order", order)));
                    float[] out = sampler.sample(denoiser(new int[] {4, 3, 8, 8}), DiffusersFixtures.dummySampleDeter(),
                            plan, 0, NO_NOISE, null);
                    for (float v : out) {
                        assertFalse(Float.isNaN(v), type + " order " + order + " " + prediction);
                    }
                }
            }
        }
    }

    /** UniPCMultistepScheduler1DTest.dummy_sample_deter: arange(96).reshape(3, 8, 4) / 96 permuted to (4, 3, 8). */
    static float[] sampleDeter1d() {
        float[] out = new float[96];
        for (int b = 0; b < 4; b++) {
            for (int c = 0; c < 3; c++) {
                for (int w = 0; w < 8; w++) {
                    out[(b * 3 + c) * 8 + w] = (float) (c * 32 + w * 4 + b) / 96f;
                }
            }
        }
        return out;
    }

    /** UniPCMultistepScheduler1DTest.dummy_noise_deter: the same with arange(96).flip(-1). */
    static float[] noiseDeter1d() {
        float[] out = new float[96];
        for (int b = 0; b < 4; b++) {
            for (int c = 0; c < 3; c++) {
                for (int w = 0; w < 8; w++) {
                    out[(b * 3 + c) * 8 + w] = (float) (95 - (c * 32 + w * 4 + b)) / 96f;
                }
            }
        }
        return out;
    }

    static Denoiser denoiser(int[] shape) {
        return new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                return dummyModel(modelInput, timestep);
            }

            @Override
            public int[] latentShape() {
                return shape;
            }
        };
    }
}
