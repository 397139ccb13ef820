package io.jdiffusion.samplers.ddim;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.util.Arrays;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * DDIM (Song et al. 2020), exactly as diffusers' {@code DDIMScheduler}: integer timesteps by
 * {@code timestep_spacing} (default {@code leading}) and {@code steps_offset}, the previous
 * timestep {@code t - N // steps}, {@code final_alpha_cumprod} from {@code set_alpha_to_one},
 * {@code clip_sample} / {@code clip_sample_range} or dynamic {@code thresholding}, all three
 * prediction types, and with {@code eta > 0} one variance-noise draw per step after the
 * deterministic update, as diffusers draws it. Arithmetic is float32 as on diffusers' tensors.
 *
 * <p>It works in alpha terms: {@link SamplerPlan#sigmas()} is {@code null}, the model input is
 * not scaled and {@code init_noise_sigma} is 1.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=ddim", Plugin.LABEL + "=DDIM"})
public class DdimSampler implements Sampler {
    public static final String ETA = "eta";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ETA, 0.0, 0.0, 1.0,
                    "Noise added back at each step: 0 = deterministic DDIM, 1 = as much as DDPM"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        int numTrain = config.numTrainTimesteps();
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        if (steps > numTrain) {
            throw new IllegalArgumentException("steps (" + steps + ") cannot be larger than num_train_timesteps ("
                    + numTrain + ")");
        }
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        String spacing = config.timestepSpacing("leading");
        double[] spaced = Sigmas.spacedTimesteps(spacing, numTrain, steps, config.stepsOffset());
        double[] timesteps = new double[spaced.length];
        for (int i = 0; i < spaced.length; i++) {
            // .round().astype(np.int64) for linspace; leading and trailing are whole already
            long t = (long) Sigmas.round(spaced[i]);
            if (t < 0 || t >= numTrain) {
                throw new IllegalArgumentException("timestep " + t + " is outside 0.." + (numTrain - 1)
                        + " (steps_offset " + config.stepsOffset() + ")");
            }
            timesteps[i] = t;
        }
        return new SamplerPlan(timesteps, null, 1.0, 1, config, s);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        SchedulerConfig config = plan.config();
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        float[] alphasCumprod = config.alphasCumprod();
        float finalAlphaCumprod = finalAlphaCumprod(config);
        int stride = config.numTrainTimesteps() / steps;
        PredictionType prediction = config.predictionType();
        boolean thresholding = config.getBoolean("thresholding", false);
        boolean clip = config.getBoolean("clip_sample", true);
        float clipRange = (float) config.getDouble("clip_sample_range", 1.0);
        float ratio = (float) config.getDouble("dynamic_thresholding_ratio", 0.995);
        float maxValue = (float) config.getDouble("sample_max_value", 1.0);
        SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
        double eta = settings.param(ETA, 0.0);
        int rows = rows(model, latents.length);
        Progress p = progress == null ? Progress.NONE : progress;

        float[] x = latents.clone();
        int n = x.length;
        float[] x0 = new float[n];
        float[] eps = new float[n];
        for (int i = startStep; i < steps; i++) {
            int t = (int) timesteps[i];
            float[] out = model.predict(x, t);
            if (out.length != n) {
                throw new IllegalStateException("model returned " + out.length + " values for " + n + " latents");
            }
            int prevT = t - stride;
            float alphaProdT = alphasCumprod[t];
            float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
            float betaProdT = 1f - alphaProdT;
            float sqrtAlpha = (float) Math.sqrt(alphaProdT);
            float sqrtBeta = (float) Math.sqrt(betaProdT);

            // 3. predicted x_0 and epsilon
            float[] predEps = prediction == PredictionType.EPSILON ? out : eps;
            switch (prediction) {
                case EPSILON:
                    for (int j = 0; j < n; j++) {
                        x0[j] = (x[j] - sqrtBeta * out[j]) / sqrtAlpha;
                    }
                    break;
                case SAMPLE:
                    for (int j = 0; j < n; j++) {
                        x0[j] = out[j];
                        eps[j] = (x[j] - sqrtAlpha * x0[j]) / sqrtBeta;
                    }
                    break;
                case V_PREDICTION:
                    for (int j = 0; j < n; j++) {
                        x0[j] = sqrtAlpha * x[j] - sqrtBeta * out[j];
                        eps[j] = sqrtAlpha * out[j] + sqrtBeta * x[j];
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown prediction type " + prediction);
            }
            // 4. clip or threshold x_0
            if (thresholding) {
                threshold(x0, rows, ratio, maxValue);
            } else if (clip) {
                for (int j = 0; j < n; j++) {
                    x0[j] = clamp(x0[j], -clipRange, clipRange);
                }
            }
            // 5. sigma_t(eta)
            float variance = variance(alphaProdT, alphaProdTPrev);
            float stdDevT = (float) eta * (float) Math.sqrt(variance);
            // 6., 7. direction pointing to x_t, and x_{t-1} without noise
            float direction = (float) Math.sqrt(1f - alphaProdTPrev - stdDevT * stdDevT);
            float sqrtAlphaPrev = (float) Math.sqrt(alphaProdTPrev);
            for (int j = 0; j < n; j++) {
                x[j] = sqrtAlphaPrev * x0[j] + direction * predEps[j];
            }
            if (eta > 0) {
                float[] z = noise.randn(n);
                for (int j = 0; j < n; j++) {
                    x[j] = x[j] + stdDevT * z[j];
                }
            }
            p.step(i + 1, steps);
        }
        return x;
    }

    /** diffusers' {@code add_noise}: {@code sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) noise} at the start step's timestep. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        int t = (int) plan.timesteps()[startStep];
        float alphaProd = plan.config().alphasCumprod()[t];
        float sqrtAlpha = (float) Math.sqrt(alphaProd);
        float sqrtOneMinusAlpha = (float) Math.sqrt(1f - alphaProd);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sqrtAlpha * original[i] + sqrtOneMinusAlpha * noise[i];
        }
        return out;
    }

    /** {@code final_alpha_cumprod}: 1 with {@code set_alpha_to_one} (diffusers' default), else ᾱ_0. */
    static float finalAlphaCumprod(SchedulerConfig config) {
        return config.getBoolean("set_alpha_to_one", true) ? 1f : config.alphasCumprod()[0];
    }

    /** diffusers' {@code _get_variance(timestep, prev_timestep)} in float32. */
    static float variance(SchedulerConfig config, int timestep, int prevTimestep) {
        float[] ac = config.alphasCumprod();
        return variance(ac[timestep], prevTimestep >= 0 ? ac[prevTimestep] : finalAlphaCumprod(config));
    }

    private static float variance(float alphaProdT, float alphaProdTPrev) {
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        return (betaProdTPrev / betaProdT) * (1f - alphaProdT / alphaProdTPrev);
    }

    private static float clamp(float v, float lo, float hi) {
        // torch.clamp keeps NaN
        return v < lo ? lo : (v > hi ? hi : v);
    }

    /**
     * diffusers' {@code _threshold_sample} (dynamic thresholding, Imagen) per image:
     * {@code s = clamp(quantile(|x0|, ratio), 1, sample_max_value)}, then {@code clamp(x0, -s, s) / s}.
     */
    static void threshold(float[] x0, int rows, float ratio, float maxValue) {
        int len = x0.length / rows;
        float[] sorted = new float[len];
        for (int r = 0; r < rows; r++) {
            int off = r * len;
            for (int j = 0; j < len; j++) {
                sorted[j] = Math.abs(x0[off + j]);
            }
            Arrays.sort(sorted);
            float s = quantile(sorted, ratio);
            s = Math.min(Math.max(s, 1f), maxValue);
            for (int j = 0; j < len; j++) {
                x0[off + j] = clamp(x0[off + j], -s, s) / s;
            }
        }
    }

    /** {@code torch.quantile(x, q)} with linear interpolation, on sorted values, in float32 as torch computes it. */
    static float quantile(float[] sorted, float q) {
        int len = sorted.length;
        if (Float.isNaN(sorted[len - 1])) {
            return Float.NaN;
        }
        float rank = q * (len - 1);
        int below = (int) rank;
        int above = (int) Math.ceil(rank);
        float weight = rank - below;
        float lo = sorted[below];
        float hi = sorted[above];
        // torch.lerp
        return Math.abs(weight) < 0.5f ? lo + weight * (hi - lo) : hi - (hi - lo) * (1f - weight);
    }

    private static int rows(Denoiser model, int length) {
        int[] shape = model.latentShape();
        if (shape != null && shape.length > 0 && shape[0] > 0 && length % shape[0] == 0) {
            return shape[0];
        }
        return 1;
    }
}
