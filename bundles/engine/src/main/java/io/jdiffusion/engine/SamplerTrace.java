package io.jdiffusion.engine;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.noise.TorchCpuGenerator;
import java.util.Locale;
import java.util.Map;

/**
 * The sampler-trace run: diffusers' scheduler-test setup (tests/schedulers/test_schedulers.py:
 * {@code dummy_sample_deter}, {@code dummy_model}) driven through the same Sampler calls the
 * txt2img pipeline makes, with the same seeded generator.
 */
final class SamplerTrace {
    static final int[] SHAPE = {4, 3, 8, 8};

    private SamplerTrace() {
    }

    /** diffusers' dummy_sample_deter: element [b,c,h,w] = (c*256 + h*32 + w*4 + b) / 768, as float32. */
    static float[] dummySampleDeter() {
        int b = SHAPE[0];
        int c = SHAPE[1];
        int h = SHAPE[2];
        int w = SHAPE[3];
        float[] x = new float[b * c * h * w];
        int k = 0;
        for (int ib = 0; ib < b; ib++) {
            for (int ic = 0; ic < c; ic++) {
                for (int ih = 0; ih < h; ih++) {
                    for (int iw = 0; iw < w; iw++) {
                        float v = ic * 256 + ih * 32 + iw * 4 + ib; // torch.arange(num_elems) flipped and reshaped
                        x[k++] = v / 768f;
                    }
                }
            }
        }
        return x;
    }

    static String run(Sampler sampler, String samplerId, NoiseSchedule schedule, String scheduleId, String prediction,
                      int steps, long seed, Map<String, Object> params) {
        SchedulerConfig config = SchedulerConfig.sd15().with("prediction_type", prediction);
        SamplerPlan plan = sampler.plan(config, steps, new SamplerSettings(schedule, params));
        float[] x = dummySampleDeter();
        float init = (float) plan.initNoiseSigma();
        for (int i = 0; i < x.length; i++) {
            x[i] *= init;
        }
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                float t = (float) timestep;
                float[] out = new float[in.length];
                for (int i = 0; i < in.length; i++) {
                    out[i] = in[i] * t / (t + 1f);
                }
                return out;
            }

            @Override
            public int[] latentShape() {
                return SHAPE.clone();
            }
        };
        float[] result = sampler.sample(model, x, plan, 0, new TorchCpuGenerator(seed), Progress.NONE);
        double sum = 0;
        for (float v : result) {
            sum += Math.abs(v);
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "sampler=%s schedule=%s prediction=%s steps=%d seed=%s%n", samplerId,
                scheduleId == null ? "default" : scheduleId, prediction, steps, Long.toUnsignedString(seed)));
        b.append("timesteps=").append(java.util.Arrays.toString(plan.timesteps())).append('\n');
        if (plan.sigmas() != null) {
            b.append("sigmas=").append(java.util.Arrays.toString(plan.sigmas())).append('\n');
        }
        b.append(String.format(Locale.ROOT, "init_noise_sigma=%.9g%n", plan.initNoiseSigma()));
        b.append(String.format(Locale.ROOT, "sum=%.9g mean=%.9g", sum, sum / result.length));
        return b.toString();
    }
}
