package io.jdiffusion.samplers.dpmpp_2m;

import static io.jdiffusion.samplers.testkit.DiffusersFixtures.NO_NOISE;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absMean;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.absSum;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.config;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyDenoiser;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummyNoiseDeter;
import static io.jdiffusion.samplers.testkit.DiffusersFixtures.dummySampleDeter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import org.junit.jupiter.api.Test;

/**
 * diffusers' own expectations for {@code DPMSolverMultistepScheduler} (dpmsolver++), from
 * huggingface/diffusers tests/schedulers/test_scheduler_dpm_multi.py (class
 * DPMSolverMultistepSchedulerTest: num_train_timesteps 1000, beta 0.0001..0.02 linear, solver_order 2,
 * midpoint, lower_order_final False, euler_at_final False, final_sigmas_type sigma_min; {@code full_loop}:
 * 10 steps, {@code residual = model(sample, t); sample = step(residual, t, sample)}), same tolerances.
 * Their loop is the pipeline loop (no input scaling here), so the sampler's {@code sample} runs it.
 */
class DpmPp2mSamplerDiffusersTest {
    private final DpmPp2mSampler sampler = new DpmPp2mSampler();

    static SchedulerConfig testConfig(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
            "beta_schedule", "linear", "solver_order", 2, "prediction_type", "epsilon", "thresholding", false,
            "sample_max_value", 1.0, "algorithm_type", "dpmsolver++", "solver_type", "midpoint",
            "lower_order_final", false, "euler_at_final", false, "final_sigmas_type", "sigma_min"};
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
        // test_scheduler_dpm_multi.py test_full_loop_no_noise (and test_switch)
        assertEquals(0.3301, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithNoise() {
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        int tStart = 5;
        float[] sample = sampler.addNoise(dummySampleDeter(), dummyNoiseDeter(), plan, tStart);
        sample = sampler.sample(dummyDenoiser(), sample, plan, tStart, NO_NOISE, null);
        // test_scheduler_dpm_multi.py test_full_loop_with_noise
        assertEquals(318.4111, absSum(sample), 1e-2);
        assertEquals(0.4146, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopNoNoiseThresholding() {
        float[] sample = fullLoop(testConfig("thresholding", true, "dynamic_thresholding_ratio", 0.87,
                "sample_max_value", 0.5));
        // test_scheduler_dpm_multi.py test_full_loop_no_noise_thres
        assertEquals(1.1364, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction"));
        // test_scheduler_dpm_multi.py test_full_loop_with_v_prediction
        assertEquals(0.2251, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithKarrasAndVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction", "use_karras_sigmas", true));
        // test_scheduler_dpm_multi.py test_full_loop_with_karras_and_v_prediction
        assertEquals(0.2096, absMean(sample), 1e-3);
    }

    @Test
    void fullLoopWithLuAndVPrediction() {
        float[] sample = fullLoop(testConfig("prediction_type", "v_prediction", "use_lu_lambdas", true));
        // test_scheduler_dpm_multi.py test_full_loop_with_lu_and_v_prediction
        assertEquals(0.1554, absMean(sample), 1e-3);
    }

    @Test
    void allOrdersAndSolverTypesStayFinite() {
        // test_scheduler_dpm_multi.py test_solver_order_and_type: no NaN for orders 1-3, midpoint/heun,
        // epsilon/sample predictions
        for (String type : new String[] {"midpoint", "heun"}) {
            for (int order = 1; order <= 3; order++) {
                for (String prediction : new String[] {"epsilon", "sample"}) {
                    SchedulerConfig cfg = testConfig("solver_type", type, "prediction_type", prediction);
                    SamplerPlan plan = sampler.plan(cfg, 10, new SamplerSettings(null,
                            java.util.Map.of("solver_order", order)));
                    float[] out = sampler.sample(dummyDenoiser(), dummySampleDeter(), plan, 0, NO_NOISE, null);
                    for (float v : out) {
                        assertEquals(false, Float.isNaN(v), type + " order " + order + " " + prediction);
                    }
                }
            }
        }
    }

    @Test
    void testConfigTimesteps() {
        // np.linspace(0, 999, 11).round()[::-1][:-1]: 499.5 rounds half to even
        SamplerPlan plan = sampler.plan(testConfig(), 10, SamplerSettings.DEFAULT);
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100}, plan.timesteps());
    }
}
