package io.jdiffusion.api;

import java.util.Arrays;

/**
 * The {@code set_timesteps} that diffusers' ports of k-diffusion samplers share
 * ({@code EulerAncestralDiscreteScheduler}, {@code HeunDiscreteScheduler}, {@code KDPM2DiscreteScheduler},
 * {@code KDPM2AncestralDiscreteScheduler}, {@code LMSDiscreteScheduler}): timesteps by
 * {@code timestep_spacing} as float32, sigmas by {@code np.interp} of the training sigmas at them,
 * optionally respaced by a noise schedule ({@code use_karras_sigmas}, {@code use_exponential_sigmas}
 * or a {@link SamplerSettings#schedule()}) with the timesteps mapped back by {@code _sigma_to_t},
 * then a final zero and {@code init_noise_sigma}, all with diffusers' dtypes.
 *
 * <p>The plan always holds the user-visible steps: {@code steps} timesteps and {@code steps + 1}
 * sigmas. Second-order schedulers (Heun, KDPM2) interleave these into their own
 * {@code 2 * steps - 1} model calls; they do that from the plan, so img2img can start at any
 * user-visible step.
 */
public final class DiscreteSigmaPlan {
    private DiscreteSigmaPlan() {
    }

    /** How the timesteps of a respaced schedule ({@code _sigma_to_t} of each sigma) are held. */
    public enum ScheduleTimesteps {
        /** {@code np.array(...)} then {@code torch.float32} (Heun, LMS). */
        FLOAT32,
        /**
         * Kept float64; for the Karras schedule rounded half to even first
         * ({@code np.array(...).round()}, KDPM2 and KDPM2 ancestral).
         */
        FLOAT64_ROUND_KARRAS
    }

    /**
     * What differs between the schedulers that share this plan.
     *
     * @param defaultSpacing the scheduler's default {@code timestep_spacing}
     * @param schedules      whether the scheduler takes {@code use_karras_sigmas} / {@code use_exponential_sigmas}
     *                       (and so a {@link SamplerSettings#schedule()}); when false those config keys are
     *                       ignored, as diffusers ignores keys a scheduler does not declare, and a schedule in
     *                       the settings is refused
     * @param mapping        how respaced timesteps are held
     * @param order          diffusers' {@code scheduler.order}
     */
    public record Options(String defaultSpacing, boolean schedules, ScheduleTimesteps mapping, int order) {
    }

    /**
     * The plan for {@code steps} user-visible steps.
     *
     * @param alphasCumprod ᾱ as the scheduler holds them ({@link #alphasCumprod})
     * @throws IllegalArgumentException for bad steps, spacing, or schedule keys
     */
    public static SamplerPlan plan(SchedulerConfig config, float[] alphasCumprod, int steps, SamplerSettings settings,
                                   Options options) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        int numTrain = alphasCumprod.length;
        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] logSigmas = Sigmas.logFloat32(trainSigmas);
        String spacing = config.timestepSpacing(options.defaultSpacing());

        double[] spaced = Sigmas.spacedTimesteps(spacing, numTrain, steps, config.stepsOffset());
        if (spaced.length != steps) {
            throw new IllegalArgumentException("timestep_spacing " + spacing + " gives " + spaced.length
                    + " timesteps for " + steps + " steps");
        }
        // np.linspace(..., dtype=np.float32) / .astype(np.float32)
        double[] timesteps = Sigmas.toFloat32(spaced);
        // np.interp(timesteps, np.arange(len(sigmas)), sigmas): float64
        double[] sigmas = new double[steps];
        for (int i = 0; i < steps; i++) {
            sigmas[i] = Sigmas.interpIndex(timesteps[i], trainSigmas);
        }

        Schedule schedule = scheduleOf(config, s, options);
        if (schedule != null) {
            // _convert_to_*: sigma_min / sigma_max from the interpolated sigmas (these schedulers have no
            // sigma_min / sigma_max config), in float64
            double sigmaMin = sigmas[steps - 1];
            double sigmaMax = sigmas[0];
            double[] respaced = schedule.schedule.sigmas(steps, sigmaMin, sigmaMax);
            if (respaced == null || respaced.length != steps) {
                throw new IllegalStateException("noise schedule gave " + (respaced == null ? "no" : respaced.length)
                        + " sigmas for " + steps + " steps");
            }
            boolean round = options.mapping() == ScheduleTimesteps.FLOAT64_ROUND_KARRAS
                    && (schedule.karras || Arrays.equals(respaced, Sigmas.karras(steps, sigmaMin, sigmaMax, 7.0)));
            sigmas = respaced.clone();
            for (int i = 0; i < steps; i++) {
                double t = Sigmas.sigmaToT(sigmas[i], logSigmas);
                switch (options.mapping()) {
                    case FLOAT32:
                        timesteps[i] = (float) t;
                        break;
                    case FLOAT64_ROUND_KARRAS:
                        timesteps[i] = round ? Sigmas.round(t) : t;
                        break;
                    default:
                        throw new IllegalStateException("unknown mapping " + options.mapping());
                }
            }
        }

        // np.concatenate([sigmas, [0.0]]).astype(np.float32)
        double[] planSigmas = new double[steps + 1];
        float max = 0f;
        for (int i = 0; i < steps; i++) {
            float f = (float) sigmas[i];
            planSigmas[i] = f;
            max = Math.max(max, f);
        }
        planSigmas[steps] = 0.0;
        double initNoiseSigma = "linspace".equals(spacing) || "trailing".equals(spacing)
                ? max : (float) Math.sqrt(max * max + 1f);
        return new SamplerPlan(timesteps, planSigmas, initNoiseSigma, options.order(), config, s);
    }

    /**
     * ᾱ for the k-diffusion ports that default to SD's betas ({@code beta_start} 0.00085, {@code beta_end}
     * 0.012) where {@link SchedulerConfig} defaults to diffusers' 0.0001..0.02 (Heun, KDPM2, KDPM2
     * ancestral); they have no {@code rescale_betas_zero_snr}.
     *
     * @param expBetas whether the scheduler knows {@code beta_schedule = "exp"}
     */
    public static float[] alphasCumprodSdBetas(SchedulerConfig config, boolean expBetas) {
        SchedulerConfig c = config;
        if (!c.has("beta_start")) {
            c = c.with("beta_start", 0.00085);
        }
        if (!c.has("beta_end")) {
            c = c.with("beta_end", 0.012);
        }
        return alphasCumprod(c, false, expBetas);
    }

    /**
     * The denoised sample ({@code pred_original_sample}) of the sigma-form schedulers' {@code step}, in
     * float32: epsilon {@code sample - sigma * out}; v_prediction
     * {@code out * (-sigma / sqrt(sigma^2 + 1)) + sample / (sigma^2 + 1)}; sample the output itself.
     */
    public static float[] predictOriginal(PredictionType prediction, float[] modelOutput, float[] sample,
                                          float sigma) {
        int n = sample.length;
        float[] x0 = new float[n];
        switch (prediction) {
            case EPSILON:
                for (int j = 0; j < n; j++) {
                    x0[j] = sample[j] - sigma * modelOutput[j];
                }
                break;
            case V_PREDICTION: {
                float c = sigma * sigma + 1f;
                float cOut = -sigma / (float) Math.sqrt(c);
                for (int j = 0; j < n; j++) {
                    x0[j] = modelOutput[j] * cOut + sample[j] / c;
                }
                break;
            }
            case SAMPLE:
                System.arraycopy(modelOutput, 0, x0, 0, n);
                break;
            default:
                throw new IllegalStateException("unknown prediction type " + prediction);
        }
        return x0;
    }

    /**
     * diffusers' {@code add_noise} for the sigma-form (k-diffusion) schedulers:
     * {@code original + noise * sigma} in float32, with sigma the plan's at user step {@code startStep}.
     */
    public static float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        float sigma = (float) plan.sigmas()[startStep];
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = original[i] + noise[i] * sigma;
        }
        return out;
    }

    /**
     * ᾱ as one of these schedulers holds them. With {@code zeroSnr} (schedulers that declare
     * {@code rescale_betas_zero_snr}, e.g. Euler ancestral) the config's ᾱ, whose last value is set to
     * 2^-24 when rescaled so the first sigma stays finite. Without it the key is ignored, as diffusers
     * ignores keys a scheduler does not declare: {@code cumprod(1 - betas)} of the plain betas.
     * {@code expBetas} allows {@code beta_schedule = "exp"} ({@code betas_for_alpha_bar} with
     * {@code exp(-12 t)}, Heun).
     */
    public static float[] alphasCumprod(SchedulerConfig config, boolean zeroSnr, boolean expBetas) {
        boolean rescale = config.getBoolean("rescale_betas_zero_snr", false);
        if ("exp".equals(config.betaSchedule()) && !config.has("trained_betas")) {
            if (!expBetas || (zeroSnr && rescale)) {
                throw new IllegalArgumentException("scheduler_config.json: beta_schedule exp is not supported by this "
                        + "sampler" + (expBetas ? " with rescale_betas_zero_snr" : ""));
            }
            return cumprod(expBetas(config.numTrainTimesteps()));
        }
        if (!rescale) {
            return config.alphasCumprod();
        }
        if (!zeroSnr) {
            return cumprod(config.betas());
        }
        float[] ac = config.alphasCumprod().clone();
        ac[ac.length - 1] = 0x1p-24f;
        return ac;
    }

    /** {@code torch.cumprod(1 - betas)} in float32, accumulated in double as torch's CPU kernel does. */
    private static float[] cumprod(float[] betas) {
        float[] out = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1.0f - betas[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** {@code betas_for_alpha_bar(n, alpha_transform_type="exp")}: {@code min(1 - e^{-12 t2} / e^{-12 t1}, 0.999)}. */
    static float[] expBetas(int n) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            b[i] = (float) Math.min(1 - Math.exp(t2 * -12.0) / Math.exp(t1 * -12.0), 0.999);
        }
        return b;
    }

    private record Schedule(NoiseSchedule schedule, boolean karras) {
    }

    private static Schedule scheduleOf(SchedulerConfig config, SamplerSettings settings, Options options) {
        if (!options.schedules()) {
            if (settings.schedule() != null) {
                throw new IllegalArgumentException("this sampler takes no noise schedule");
            }
            return null;
        }
        NoiseSchedule schedule = noiseSchedule(config, settings);
        if (schedule == null) {
            return null;
        }
        // only the config's Karras sigmas count as Karras (KDPM2 rounds their timesteps); a schedule from
        // the settings never does
        boolean karras = settings.schedule() == null && config.getBoolean("use_karras_sigmas", false);
        return new Schedule(schedule, karras);
    }

    /**
     * The noise schedule a sigma-form sampler respaces its sigmas with: the settings' own
     * {@link SamplerSettings#schedule()} if any, else the config's {@code use_karras_sigmas} (rho 7) or
     * {@code use_exponential_sigmas}, else {@code null} (the training sigmas interpolated as they are).
     *
     * @throws IllegalArgumentException when the config sets more than one of those keys, or
     *                                  {@code use_beta_sigmas} (not supported: a schedule replaces it)
     */
    public static NoiseSchedule noiseSchedule(SchedulerConfig config, SamplerSettings settings) {
        if (settings != null && settings.schedule() != null) {
            return settings.schedule();
        }
        boolean karras = config.getBoolean("use_karras_sigmas", false);
        boolean exponential = config.getBoolean("use_exponential_sigmas", false);
        boolean beta = config.getBoolean("use_beta_sigmas", false);
        if ((karras ? 1 : 0) + (exponential ? 1 : 0) + (beta ? 1 : 0) > 1) {
            throw new IllegalArgumentException("scheduler_config.json: only one of use_karras_sigmas, "
                    + "use_exponential_sigmas, use_beta_sigmas can be set");
        }
        if (beta) {
            throw new IllegalArgumentException("scheduler_config.json: use_beta_sigmas is not supported; "
                    + "choose a schedule instead");
        }
        if (karras) {
            return (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        }
        if (exponential) {
            return Sigmas::exponential;
        }
        return null;
    }
}
