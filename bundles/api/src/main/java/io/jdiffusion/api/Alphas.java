package io.jdiffusion.api;

/**
 * Arithmetic shared by the samplers that work in ᾱ terms rather than sigmas (diffusers'
 * {@code DDPMScheduler}, {@code PNDMScheduler}, {@code LCMScheduler}, ...): their integer timesteps,
 * {@code add_noise}, the predicted {@code x_0} of each prediction type and its clipping or dynamic
 * thresholding, all in float32 with the operation order of diffusers' tensors, so samplers built
 * on it give diffusers' numbers.
 */
public final class Alphas {
    private Alphas() {
    }

    /**
     * The integer timesteps of diffusers' discrete alpha schedulers, largest first: the
     * {@code timestep_spacing} of the config (or {@code defaultSpacing} where it has none) with
     * {@code steps_offset} for {@code leading}, and {@code linspace} rounded half to even
     * ({@code np.linspace(...).round().astype(np.int64)}). Whole numbers held as doubles, as
     * {@link SamplerPlan#timesteps()} holds them.
     *
     * @throws IllegalArgumentException for {@code steps} outside {@code 1..num_train_timesteps} or a
     *                                  timestep outside {@code 0..num_train_timesteps-1}
     */
    public static double[] discreteTimesteps(SchedulerConfig config, int steps, String defaultSpacing) {
        int numTrain = config.numTrainTimesteps();
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        if (steps > numTrain) {
            throw new IllegalArgumentException("steps (" + steps + ") cannot be larger than num_train_timesteps ("
                    + numTrain + ")");
        }
        String spacing = config.timestepSpacing(defaultSpacing);
        double[] spaced = Sigmas.spacedTimesteps(spacing, numTrain, steps, config.stepsOffset());
        double[] out = new double[spaced.length];
        for (int i = 0; i < spaced.length; i++) {
            long t = (long) Sigmas.round(spaced[i]);
            if (t < 0 || t >= numTrain) {
                throw new IllegalArgumentException("timestep " + t + " is outside 0.." + (numTrain - 1)
                        + " (timestep_spacing " + spacing + ", steps_offset " + config.stepsOffset() + ")");
            }
            out[i] = t;
        }
        return out;
    }

    /**
     * diffusers' {@code add_noise} of the DDPM family:
     * {@code sqrt(ᾱ_t) * original + sqrt(1 - ᾱ_t) * noise}, in float32.
     */
    public static float[] addNoise(float[] original, float[] noise, float alphaCumprod) {
        if (noise.length != original.length) {
            throw new IllegalArgumentException("noise has " + noise.length + " values for " + original.length);
        }
        float sqrtAlpha = (float) Math.sqrt(alphaCumprod);
        float sqrtOneMinusAlpha = (float) Math.sqrt(1f - alphaCumprod);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sqrtAlpha * original[i] + sqrtOneMinusAlpha * noise[i];
        }
        return out;
    }

    /**
     * The predicted original sample {@code x_0} from a model output at ᾱ_t, in float32 as diffusers'
     * {@code step} computes it: epsilon {@code (x - sqrt(1 - ᾱ) * eps) / sqrt(ᾱ)}, v
     * {@code sqrt(ᾱ) * x - sqrt(1 - ᾱ) * v}, sample the output itself.
     *
     * @param out receives {@code x_0}; may not alias {@code sample} or {@code modelOutput}
     */
    public static void predictOriginal(PredictionType type, float[] sample, float[] modelOutput, float alphaProdT,
                                       float[] out) {
        int n = sample.length;
        if (modelOutput.length != n || out.length != n) {
            throw new IllegalArgumentException("model output has " + modelOutput.length + " values for " + n
                    + " latents");
        }
        float sqrtAlpha = (float) Math.sqrt(alphaProdT);
        float sqrtBeta = (float) Math.sqrt(1f - alphaProdT);
        switch (type) {
            case EPSILON:
                for (int j = 0; j < n; j++) {
                    out[j] = (sample[j] - sqrtBeta * modelOutput[j]) / sqrtAlpha;
                }
                break;
            case V_PREDICTION:
                for (int j = 0; j < n; j++) {
                    out[j] = sqrtAlpha * sample[j] - sqrtBeta * modelOutput[j];
                }
                break;
            case SAMPLE:
                System.arraycopy(modelOutput, 0, out, 0, n);
                break;
            default:
                throw new IllegalArgumentException("unknown prediction type " + type);
        }
    }

    /**
     * Step 3 of diffusers' DDPM-family {@code step}: dynamic thresholding when the config sets
     * {@code thresholding} (by {@link DynamicThresholding}), else
     * {@code clamp(-clip_sample_range, clip_sample_range)} when {@code clip_sample} (whose default
     * differs per scheduler, hence {@code clipSampleDefault}).
     *
     * @param rows images in the batch (thresholding is per image; {@link DynamicThresholding#rows})
     */
    public static void clipOrThreshold(float[] x0, int rows, SchedulerConfig config, boolean clipSampleDefault) {
        DynamicThresholding thresholding = DynamicThresholding.of(config);
        if (thresholding != null) {
            thresholding.apply(x0, rows);
        } else if (config.getBoolean("clip_sample", clipSampleDefault)) {
            clip(x0, (float) config.getDouble("clip_sample_range", 1.0));
        }
    }

    /** {@code x.clamp(-range, range)} in place (NaN stays NaN, as in torch). */
    public static void clip(float[] x, float range) {
        for (int j = 0; j < x.length; j++) {
            x[j] = clamp(x[j], -range, range);
        }
    }

    private static float clamp(float v, float lo, float hi) {
        return v < lo ? lo : (v > hi ? hi : v);
    }
}
