package io.jdiffusion.samplers.ddpm;

import io.jdiffusion.api.Alphas;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DynamicThresholding;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import org.osgi.service.component.annotations.Component;

/**
 * DDPM ancestral sampling (Ho et al. 2020), exactly as diffusers' {@code DDPMScheduler}: integer
 * timesteps by {@code timestep_spacing} (default {@code leading}) and {@code steps_offset}; each
 * step predicts {@code x_0} (epsilon, v or sample prediction), clips or thresholds it as the
 * config says ({@code clip_sample} defaults to true here, as in diffusers; SD 1.5's config turns it
 * off), takes the posterior mean of formula (7) between this timestep and the next one in the plan
 * (ᾱ = 1 after the last), and adds {@code sqrt(variance) * z} with one fresh
 * {@code randn(latents)} draw whenever the timestep is above 0, as diffusers does with
 * {@code randn_tensor(model_output.shape, generator=generator)}. With leading spacing and
 * {@code steps_offset} 1 the last timestep is 1, so that step draws too, with a variance of 1e-20.
 *
 * <p>{@code variance_type}: {@code fixed_small} (default: the posterior variance
 * {@code (1 - ᾱ_prev) / (1 - ᾱ_t) * β_t}, clamped to 1e-20), {@code fixed_small_log}, {@code fixed_large}
 * ({@code β_t}), and {@code learned} / {@code learned_range} for models whose output has twice the
 * latent channels (the second half the variance); other names act as {@code fixed_small}, as in
 * diffusers. {@code fixed_large_log} is refused: diffusers takes the square root of a logarithm
 * there and gets NaN.
 *
 * <p>Works in alpha terms: sigmas are {@code null}, the model input is not scaled,
 * {@code init_noise_sigma} is 1. Other config keys read: betas, {@code num_train_timesteps},
 * {@code prediction_type}, {@code thresholding}, {@code dynamic_thresholding_ratio},
 * {@code sample_max_value}, {@code clip_sample_range}, {@code rescale_betas_zero_snr}.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=ddpm", Plugin.LABEL + "=DDPM"})
public class DdpmSampler implements Sampler {
    private static final float MIN_VARIANCE = 1e-20f;

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        VarianceType.of(config); // refuse an unusable variance_type before the run
        return new SamplerPlan(Alphas.discreteTimesteps(config, steps, "leading"), null, 1.0, 1, config, s);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        SchedulerConfig config = plan.config();
        float[] alphasCumprod = config.alphasCumprod();
        PredictionType prediction = config.predictionType();
        VarianceType varianceType = VarianceType.of(config);
        int rows = DynamicThresholding.rows(model, latents.length);
        Progress p = progress == null ? Progress.NONE : progress;

        float[] x = latents.clone();
        int n = x.length;
        float[] x0 = new float[n];
        for (int i = startStep; i < steps; i++) {
            int t = (int) timesteps[i];
            // previous_timestep: the next entry of the plan, -1 after the last
            int prevT = i + 1 < steps ? (int) timesteps[i + 1] : -1;
            float[] raw = model.predict(x, t);
            float[] out;
            float[] predictedVariance = null;
            if (raw.length == 2 * n && varianceType.learned()) {
                out = new float[n];
                predictedVariance = new float[n];
                splitChannels(raw, rows, out, predictedVariance);
            } else if (raw.length == n) {
                out = raw;
            } else {
                throw new IllegalStateException("model returned " + raw.length + " values for " + n + " latents");
            }
            if (varianceType.learned() && predictedVariance == null && t > 0) {
                throw new IllegalStateException("variance_type " + varianceType.configName
                        + " needs a model that predicts the variance (twice the latent channels)");
            }

            // 1. alphas, betas
            float alphaProdT = alphasCumprod[t];
            float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : 1f;
            float betaProdT = 1f - alphaProdT;
            float betaProdTPrev = 1f - alphaProdTPrev;
            float currentAlphaT = alphaProdT / alphaProdTPrev;
            float currentBetaT = 1f - currentAlphaT;
            // 2., 3. predicted x_0, clipped or thresholded
            Alphas.predictOriginal(prediction, x, out, alphaProdT, x0);
            Alphas.clipOrThreshold(x0, rows, config, true);
            // 4., 5. posterior mean (formula 7)
            float x0Coeff = ((float) Math.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
            float sampleCoeff = ((float) Math.sqrt(currentAlphaT) * betaProdTPrev) / betaProdT;
            float[] prev = new float[n];
            for (int j = 0; j < n; j++) {
                prev[j] = x0Coeff * x0[j] + sampleCoeff * x[j];
            }
            // 6. noise
            if (t > 0) {
                float[] z = noise.randn(n);
                if (z.length != n) {
                    throw new IllegalStateException("noise source gave " + z.length + " values for " + n);
                }
                addVariance(prev, z, varianceType, alphaProdT, alphaProdTPrev, predictedVariance);
            }
            x = prev;
            p.step(i + 1, steps);
        }
        return x;
    }

    /** Step 6 of diffusers' {@code step}: {@code pred_prev_sample + variance}, the noise scaled per variance type. */
    private static void addVariance(float[] prev, float[] z, VarianceType type, float alphaProdT, float alphaProdTPrev,
                                    float[] predictedVariance) {
        int n = prev.length;
        switch (type) {
            case FIXED_SMALL_LOG: {
                float std = variance(alphaProdT, alphaProdTPrev, type);
                for (int j = 0; j < n; j++) {
                    prev[j] = prev[j] + std * z[j];
                }
                break;
            }
            case LEARNED_RANGE: {
                float currentBetaT = 1f - alphaProdT / alphaProdTPrev;
                float minLog = (float) Math.log(Math.max(posteriorVariance(alphaProdT, alphaProdTPrev), MIN_VARIANCE));
                float maxLog = (float) Math.log(currentBetaT);
                for (int j = 0; j < n; j++) {
                    float frac = (predictedVariance[j] + 1f) / 2f;
                    float logVariance = frac * maxLog + (1f - frac) * minLog;
                    prev[j] = prev[j] + (float) Math.exp(0.5f * logVariance) * z[j];
                }
                break;
            }
            case LEARNED:
                for (int j = 0; j < n; j++) {
                    prev[j] = prev[j] + (float) Math.sqrt(predictedVariance[j]) * z[j];
                }
                break;
            default: {
                float std = (float) Math.sqrt(variance(alphaProdT, alphaProdTPrev, type));
                for (int j = 0; j < n; j++) {
                    prev[j] = prev[j] + std * z[j];
                }
                break;
            }
        }
    }

    /**
     * diffusers' {@code _get_variance(t)} for the fixed variance types, float32: the posterior variance
     * {@code (1 - ᾱ_prev) / (1 - ᾱ_t) * (1 - ᾱ_t / ᾱ_prev)} clamped to 1e-20; {@code fixed_small_log}
     * gives its square root by way of {@code exp(0.5 log v)}, {@code fixed_large} {@code β_t}.
     */
    static float variance(float alphaProdT, float alphaProdTPrev, VarianceType type) {
        float variance = Math.max(posteriorVariance(alphaProdT, alphaProdTPrev), MIN_VARIANCE);
        switch (type) {
            case FIXED_SMALL_LOG:
                return (float) Math.exp(0.5f * (float) Math.log(variance));
            case FIXED_LARGE:
                return 1f - alphaProdT / alphaProdTPrev;
            default:
                return variance;
        }
    }

    /** {@code _get_variance(t)} with the previous timestep {@code prevT} (-1: ᾱ = 1), as diffusers' tests call it. */
    static float variance(SchedulerConfig config, int t, int prevT) {
        float[] ac = config.alphasCumprod();
        return variance(ac[t], prevT >= 0 ? ac[prevT] : 1f, VarianceType.of(config));
    }

    private static float posteriorVariance(float alphaProdT, float alphaProdTPrev) {
        float currentBetaT = 1f - alphaProdT / alphaProdTPrev;
        return (1f - alphaProdTPrev) / (1f - alphaProdT) * currentBetaT;
    }

    /** {@code torch.split(model_output, channels, dim=1)} of a {@code [rows, 2C, ...]} output. */
    private static void splitChannels(float[] raw, int rows, float[] first, float[] second) {
        int half = first.length / rows;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(raw, 2 * r * half, first, r * half, half);
            System.arraycopy(raw, 2 * r * half + half, second, r * half, half);
        }
    }

    /** diffusers' {@code add_noise}: {@code sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) noise} at the start step's timestep. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        int t = (int) plan.timesteps()[startStep];
        return Alphas.addNoise(original, noise, plan.config().alphasCumprod()[t]);
    }

    /** {@code variance_type} values. */
    enum VarianceType {
        FIXED_SMALL("fixed_small"), FIXED_SMALL_LOG("fixed_small_log"), FIXED_LARGE("fixed_large"),
        LEARNED("learned"), LEARNED_RANGE("learned_range");

        final String configName;

        VarianceType(String configName) {
            this.configName = configName;
        }

        boolean learned() {
            return this == LEARNED || this == LEARNED_RANGE;
        }

        static VarianceType of(SchedulerConfig config) {
            String name = config.getString("variance_type", "fixed_small");
            if ("fixed_large_log".equals(name)) {
                throw new IllegalArgumentException("scheduler_config.json: variance_type fixed_large_log is not "
                        + "supported (diffusers' DDPMScheduler takes the square root of its logarithm and gets NaN)");
            }
            for (VarianceType v : values()) {
                if (v.configName.equals(name)) {
                    return v;
                }
            }
            return FIXED_SMALL; // diffusers' _get_variance keeps the clamped posterior variance for any other name
        }
    }
}
