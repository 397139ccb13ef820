package io.jdiffusion.api;

/**
 * The multistep DPM-Solver++ of diffusers' {@code DPMSolverMultistepScheduler} (Lu et al. 2022,
 * "DPM-Solver++"), shared by the DPM++ 2M and DPM++ 2M SDE samplers, plus the timestep planning
 * that {@code UniPCMultistepScheduler} shares with it.
 *
 * <p>{@link #plan} is {@code set_timesteps}: integer timesteps by {@code timestep_spacing} (default
 * {@code linspace}), clipped by {@code lambda_min_clipped}; sigmas {@code sqrt((1 - ᾱ) / ᾱ)} at those
 * timesteps, or Karras / exponential / Lu spacing over the whole training range with the timesteps
 * mapped back by {@code _sigma_to_t}; then the final sigma ({@code final_sigmas_type}), all float32.
 * The latents live in diffusers' VP convention: {@code init_noise_sigma} is 1 and the model input is
 * not scaled.
 *
 * <p>An instance is one run's solver state ({@code model_outputs}, {@code lower_order_nums}); its
 * {@link #step} is diffusers' {@code step}, in float32 with diffusers' order of operations, drawing
 * one {@code randn_tensor} of the latents' size per step for the SDE variant.
 */
public final class DpmSolverMultistep {
    /** {@code algorithm_type}. */
    public enum Algorithm {
        /** {@code dpmsolver++}: the deterministic data-prediction solver. */
        DPMSOLVER_PLUS_PLUS,
        /** {@code sde-dpmsolver++}: its SDE counterpart, with fresh Gaussian noise every step. */
        SDE_DPMSOLVER_PLUS_PLUS
    }

    /** Whose {@code set_timesteps} to follow: they differ in a few details. */
    public enum PlanStyle {
        /** {@code DPMSolverMultistepScheduler}: {@code lambda_min_clipped}, {@code use_lu_lambdas}. */
        DPM_SOLVER,
        /**
         * {@code UniPCMultistepScheduler}: no clipping, {@code sigma_min}/{@code sigma_max} config keys
         * bound the Karras/exponential range, and {@code final_sigmas_type = sigma_min} then ends on the
         * last spaced sigma.
         */
        UNIPC
    }

    private final double[] sigmas;
    private final int steps;
    private final PredictionType prediction;
    private final Algorithm algorithm;
    private final int solverOrder;
    private final boolean heun;
    private final boolean lowerOrderFinal;
    private final boolean eulerAtFinal;
    private final boolean finalSigmaZero;
    private final DynamicThresholding thresholding;
    private final int rows;
    private final float[][] modelOutputs;
    private int lowerOrderNums;

    /**
     * A fresh solver for one run of {@code plan}.
     *
     * @param solverOrder 1, 2 or 3 ({@code solver_order})
     * @param rows        images in the latents (for per-image thresholding)
     */
    public DpmSolverMultistep(SamplerPlan plan, Algorithm algorithm, int solverOrder, int rows) {
        if (solverOrder < 1 || solverOrder > 3) {
            throw new IllegalArgumentException("solver_order must be 1, 2 or 3, not " + solverOrder);
        }
        SchedulerConfig config = plan.config();
        this.sigmas = plan.sigmas();
        this.steps = plan.steps();
        this.prediction = config.predictionType();
        this.algorithm = algorithm;
        this.solverOrder = solverOrder;
        this.heun = isHeun(config);
        this.lowerOrderFinal = config.getBoolean("lower_order_final", true);
        this.eulerAtFinal = config.getBoolean("euler_at_final", false);
        this.finalSigmaZero = "zero".equals(finalSigmasType(config));
        this.thresholding = DynamicThresholding.of(config);
        this.rows = Math.max(1, rows);
        this.modelOutputs = new float[solverOrder][];
    }

    private static boolean isHeun(SchedulerConfig config) {
        String type = config.getString("solver_type", "midpoint");
        switch (type) {
            case "midpoint":
            case "logrho":
            case "bh1":
            case "bh2":
                return false; // diffusers maps the other schedulers' solver types to midpoint
            case "heun":
                return true;
            default:
                throw new IllegalArgumentException("scheduler_config.json: solver_type must be midpoint or heun, not "
                        + type);
        }
    }

    private static String finalSigmasType(SchedulerConfig config) {
        String type = config.getString("final_sigmas_type", "zero");
        if (!"zero".equals(type) && !"sigma_min".equals(type)) {
            throw new IllegalArgumentException("scheduler_config.json: final_sigmas_type must be zero or sigma_min, not "
                    + type);
        }
        return type;
    }

    // ------------------------------------------------------------------------------------------
    // set_timesteps
    // ------------------------------------------------------------------------------------------

    /**
     * {@code set_timesteps(steps)}: the plan's timesteps are whole numbers, its sigmas
     * {@code steps + 1} float32 values, {@code init_noise_sigma} 1 and {@code order} 1. A
     * {@link SamplerSettings#schedule()} replaces the sigma spacing as {@code use_karras_sigmas} does
     * (over the whole training range, timesteps rounded).
     */
    public static SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings, PlanStyle style) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        float[] ac = alphasCumprod(config);
        int numTrain = ac.length;
        float[] trainSigmas = Sigmas.fromAlphasCumprod(ac);
        float[] logSigmas = Sigmas.logFloat32(trainSigmas);
        int lastTimestep = style == PlanStyle.DPM_SOLVER ? numTrain - clippedIndex(ac, config) : numTrain;
        double[] timesteps = spacedTimesteps(config, numTrain, lastTimestep, steps);
        int n = timesteps.length;
        if (n < 1) {
            throw new IllegalArgumentException("timestep_spacing gives no timesteps for " + steps + " steps");
        }
        boolean cosine = "squaredcos_cap_v2".equals(config.betaSchedule());

        // sigma range of Karras / exponential spacing: the whole training range (UniPC: or its config keys)
        double sigmaMin = trainSigmas[0];
        double sigmaMax = trainSigmas[numTrain - 1];
        if (style == PlanStyle.UNIPC) {
            sigmaMin = config.has("sigma_min") ? config.getDouble("sigma_min", 0) : sigmaMin;
            sigmaMax = config.has("sigma_max") ? config.getDouble("sigma_max", 0) : sigmaMax;
        }

        double[] sigmasD;
        boolean spaced = true; // sigmas from a spacing rather than at the timesteps
        String kind = scheduleKind(config, style);
        NoiseSchedule schedule = s.schedule();
        if (schedule != null) {
            sigmasD = checked(schedule.sigmas(n, sigmaMin, sigmaMax), n);
            timesteps = sigmaToTimesteps(sigmasD, logSigmas, style != PlanStyle.DPM_SOLVER || !cosine);
        } else if ("karras".equals(kind)) {
            sigmasD = Sigmas.karras(n, sigmaMin, sigmaMax, 7.0);
            // DPM-Solver leaves cosine-schedule timesteps unrounded (then truncated by the int64 cast)
            timesteps = sigmaToTimesteps(sigmasD, logSigmas, style != PlanStyle.DPM_SOLVER || !cosine);
        } else if ("lu".equals(kind)) {
            // _convert_to_lu over flip(log_sigmas): evenly spaced in log sigma, rho 1
            double lambdaMax = logSigmas[numTrain - 1];
            double lambdaMin = logSigmas[0];
            double[] ramp = Sigmas.linspace(0, 1, n);
            sigmasD = new double[n];
            for (int i = 0; i < n; i++) {
                sigmasD[i] = Math.exp(lambdaMax + ramp[i] * (lambdaMin - lambdaMax));
            }
            timesteps = sigmaToTimesteps(sigmasD, logSigmas, !cosine);
        } else if ("exponential".equals(kind)) {
            sigmasD = Sigmas.exponential(n, sigmaMin, sigmaMax);
            // diffusers does not round these: the int64 cast truncates them
            timesteps = sigmaToTimesteps(sigmasD, logSigmas, false);
        } else {
            spaced = false;
            sigmasD = new double[n];
            for (int i = 0; i < n; i++) {
                sigmasD[i] = Sigmas.interpIndex(timesteps[i], trainSigmas);
            }
        }
        for (int i = 0; i < n; i++) {
            // torch.from_numpy(timesteps).to(torch.int64): truncation towards zero
            timesteps[i] = (long) timesteps[i];
            if (timesteps[i] < 0 || timesteps[i] >= numTrain) {
                throw new IllegalArgumentException("timestep " + (long) timesteps[i] + " is outside 0.." + (numTrain - 1)
                        + " (steps_offset " + config.stepsOffset() + ")");
            }
        }

        double sigmaLast;
        if ("zero".equals(finalSigmasType(config))) {
            sigmaLast = 0;
        } else if (style == PlanStyle.UNIPC && spaced) {
            sigmaLast = sigmasD[n - 1];
        } else {
            sigmaLast = (float) Math.sqrt((1f - ac[0]) / ac[0]);
        }
        double[] planSigmas = new double[n + 1];
        for (int i = 0; i < n; i++) {
            planSigmas[i] = (float) sigmasD[i];
        }
        planSigmas[n] = (float) sigmaLast;
        return new SamplerPlan(timesteps, planSigmas, 1.0, 1, config, s);
    }

    /** The config's own sigma spacing: {@code karras}, {@code exponential}, {@code lu} or {@code null}. */
    private static String scheduleKind(SchedulerConfig config, PlanStyle style) {
        boolean karras = config.getBoolean("use_karras_sigmas", false);
        boolean exponential = config.getBoolean("use_exponential_sigmas", false);
        boolean beta = config.getBoolean("use_beta_sigmas", false);
        boolean lu = style == PlanStyle.DPM_SOLVER && config.getBoolean("use_lu_lambdas", false);
        if ((karras ? 1 : 0) + (exponential ? 1 : 0) + (beta ? 1 : 0) > 1) {
            throw new IllegalArgumentException("scheduler_config.json: only one of use_karras_sigmas, "
                    + "use_exponential_sigmas, use_beta_sigmas can be set");
        }
        if (beta) {
            throw new IllegalArgumentException("scheduler_config.json: use_beta_sigmas is not supported; "
                    + "choose a schedule instead");
        }
        if (config.getBoolean("use_flow_sigmas", false)) {
            throw new IllegalArgumentException("scheduler_config.json: use_flow_sigmas is not supported");
        }
        // diffusers checks use_karras_sigmas, then use_lu_lambdas, then use_exponential_sigmas
        return karras ? "karras" : lu ? "lu" : exponential ? "exponential" : null;
    }

    private static double[] checked(double[] sigmas, int n) {
        if (sigmas == null || sigmas.length != n) {
            throw new IllegalStateException("noise schedule gave " + (sigmas == null ? "no" : sigmas.length)
                    + " sigmas for " + n + " steps");
        }
        return sigmas.clone();
    }

    private static double[] sigmaToTimesteps(double[] sigmas, float[] logSigmas, boolean round) {
        double[] t = new double[sigmas.length];
        for (int i = 0; i < t.length; i++) {
            double v = Sigmas.sigmaToT(sigmas[i], logSigmas);
            t[i] = round ? Sigmas.round(v) : v;
        }
        return t;
    }

    /**
     * The timesteps of {@code timestep_spacing} as the multistep schedulers space them (one more
     * point than steps, the last dropped), before the int64 cast.
     */
    private static double[] spacedTimesteps(SchedulerConfig config, int numTrain, int lastTimestep, int steps) {
        String spacing = config.timestepSpacing("linspace");
        switch (spacing) {
            case "linspace": {
                double[] l = Sigmas.linspace(0, lastTimestep - 1, steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = Sigmas.round(l[steps - i]);
                }
                return out;
            }
            case "leading": {
                int ratio = lastTimestep / (steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = (double) (steps - i) * ratio + config.stepsOffset();
                }
                return out;
            }
            case "trailing": {
                double ratio = (double) numTrain / steps;
                double[] t = Sigmas.arange(lastTimestep, 0, -ratio);
                double[] out = new double[t.length];
                for (int i = 0; i < t.length; i++) {
                    out[i] = Sigmas.round(t[i]) - 1;
                }
                return out;
            }
            default:
                throw new IllegalArgumentException("scheduler_config.json: timestep_spacing must be linspace, leading or "
                        + "trailing, not " + spacing);
        }
    }

    /**
     * {@code torch.searchsorted(torch.flip(lambda_t), lambda_min_clipped)}: how many of the training
     * log-SNRs lie below {@code lambda_min_clipped} (default -inf, so none).
     */
    private static int clippedIndex(float[] ac, SchedulerConfig config) {
        double clip = config.getDouble("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        float c = (float) clip;
        int count = 0;
        for (float a : ac) {
            float alpha = (float) Math.sqrt(a);
            float sigma = (float) Math.sqrt(1f - a);
            float lambda = (float) Math.log(alpha) - (float) Math.log(sigma);
            if (lambda < c) {
                count++;
            }
        }
        return count;
    }

    /** ᾱ as these schedulers hold them: with zero terminal SNR the last one is 2^-24. */
    public static float[] alphasCumprod(SchedulerConfig config) {
        float[] ac = config.alphasCumprod();
        if (config.getBoolean("rescale_betas_zero_snr", false)) {
            ac = ac.clone();
            ac[ac.length - 1] = 0x1p-24f;
        }
        return ac;
    }

    // ------------------------------------------------------------------------------------------
    // step
    // ------------------------------------------------------------------------------------------

    /** {@code _sigma_to_alpha_sigma_t}: {@code alpha_t = 1 / sqrt(sigma^2 + 1)}, in float32. */
    public static float alphaT(float sigma) {
        return 1f / (float) Math.sqrt(sigma * sigma + 1f);
    }

    /** {@code sigma_t = sigma * alpha_t}, in float32. */
    public static float sigmaT(float sigma) {
        return sigma * alphaT(sigma);
    }

    /** {@code lambda = log(alpha_t) - log(sigma_t)}, in float32 (+inf at sigma 0). */
    public static float lambda(float sigma) {
        float alpha = alphaT(sigma);
        float sigmaT = sigma * alpha;
        return (float) Math.log(alpha) - (float) Math.log(sigmaT);
    }

    /**
     * {@code convert_model_output} for DPM-Solver++: the data prediction x0 at step {@code i}
     * ({@code sample} predictions as they are), thresholded when the config asks.
     */
    public float[] convertModelOutput(float[] modelOutput, int i, float[] sample) {
        int n = sample.length;
        if (modelOutput.length != n) {
            throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n + " latents");
        }
        float sigma = (float) sigmas[i];
        float alpha = alphaT(sigma);
        float sigmaT = sigma * alpha;
        float[] x0 = new float[n];
        switch (prediction) {
            case EPSILON:
                for (int j = 0; j < n; j++) {
                    x0[j] = (sample[j] - sigmaT * modelOutput[j]) / alpha;
                }
                break;
            case SAMPLE:
                System.arraycopy(modelOutput, 0, x0, 0, n);
                break;
            case V_PREDICTION:
                for (int j = 0; j < n; j++) {
                    x0[j] = alpha * sample[j] - sigmaT * modelOutput[j];
                }
                break;
            default:
                throw new IllegalStateException("unknown prediction type " + prediction);
        }
        if (thresholding != null) {
            thresholding.apply(x0, rows);
        }
        return x0;
    }

    /**
     * diffusers' {@code step(model_output, timesteps[i], sample)} for step {@code i} of the plan:
     * {@code sample} becomes {@code prev_sample}. The SDE variant draws {@code randn(sample.length)}
     * from {@code noise} (one {@code randn_tensor} call per step, also on first-order steps).
     */
    public void step(float[] modelOutput, int i, float[] sample, NoiseSource noise) {
        boolean lowerFinal = i == steps - 1
                && (eulerAtFinal || (lowerOrderFinal && steps < 15) || finalSigmaZero);
        boolean lowerSecond = i == steps - 2 && lowerOrderFinal && steps < 15;

        float[] x0 = convertModelOutput(modelOutput, i, sample);
        for (int k = 0; k < solverOrder - 1; k++) {
            modelOutputs[k] = modelOutputs[k + 1];
        }
        modelOutputs[solverOrder - 1] = x0;

        float[] z = null;
        if (algorithm == Algorithm.SDE_DPMSOLVER_PLUS_PLUS) {
            if (noise == null) {
                throw new IllegalArgumentException("the SDE solver needs a noise source");
            }
            z = noise.randn(sample.length);
        }
        if (solverOrder == 1 || lowerOrderNums < 1 || lowerFinal) {
            firstOrder(x0, i, sample, z);
        } else if (solverOrder == 2 || lowerOrderNums < 2 || lowerSecond) {
            secondOrder(i, sample, z);
        } else {
            thirdOrder(i, sample, z);
        }
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
    }

    private void firstOrder(float[] m, int i, float[] x, float[] z) {
        float sT = (float) sigmas[i + 1];
        float sS = (float) sigmas[i];
        float alphaT = alphaT(sT);
        float sigmaT = sT * alphaT;
        float alphaS = alphaT(sS);
        float sigmaS = sS * alphaS;
        float h = lambdaOf(alphaT, sigmaT) - lambdaOf(alphaS, sigmaS);
        int n = x.length;
        if (z == null) {
            float c1 = sigmaT / sigmaS;
            float c2 = alphaT * (exp(-h) - 1f);
            for (int j = 0; j < n; j++) {
                x[j] = c1 * x[j] - c2 * m[j];
            }
        } else {
            float c1 = sigmaT / sigmaS * exp(-h);
            float c2 = alphaT * (1f - exp(-2f * h));
            float c3 = sigmaT * (float) Math.sqrt(1f - exp(-2f * h));
            for (int j = 0; j < n; j++) {
                x[j] = c1 * x[j] + c2 * m[j] + c3 * z[j];
            }
        }
    }

    private void secondOrder(int i, float[] x, float[] z) {
        float[] m0 = modelOutputs[solverOrder - 1];
        float[] m1 = modelOutputs[solverOrder - 2];
        float sT = (float) sigmas[i + 1];
        float sS0 = (float) sigmas[i];
        float sS1 = (float) sigmas[i - 1];
        float alphaT = alphaT(sT);
        float sigmaT = sT * alphaT;
        float alphaS0 = alphaT(sS0);
        float sigmaS0 = sS0 * alphaS0;
        float alphaS1 = alphaT(sS1);
        float sigmaS1 = sS1 * alphaS1;
        float lambdaT = lambdaOf(alphaT, sigmaT);
        float lambdaS0 = lambdaOf(alphaS0, sigmaS0);
        float lambdaS1 = lambdaOf(alphaS1, sigmaS1);
        float h = lambdaT - lambdaS0;
        float h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        float invR0 = 1f / r0;
        int n = x.length;
        if (z == null) {
            float c1 = sigmaT / sigmaS0;
            float c2 = alphaT * (exp(-h) - 1f);
            if (heun) {
                float c3 = alphaT * ((exp(-h) - 1f) / h + 1f);
                for (int j = 0; j < n; j++) {
                    float d1 = invR0 * (m0[j] - m1[j]);
                    x[j] = c1 * x[j] - c2 * m0[j] + c3 * d1;
                }
            } else {
                float c3 = 0.5f * c2;
                for (int j = 0; j < n; j++) {
                    float d1 = invR0 * (m0[j] - m1[j]);
                    x[j] = c1 * x[j] - c2 * m0[j] - c3 * d1;
                }
            }
        } else {
            float c1 = sigmaT / sigmaS0 * exp(-h);
            float c2 = alphaT * (1f - exp(-2f * h));
            float c3 = heun ? alphaT * ((1f - exp(-2f * h)) / (-2f * h) + 1f) : 0.5f * c2;
            float c4 = sigmaT * (float) Math.sqrt(1f - exp(-2f * h));
            for (int j = 0; j < n; j++) {
                float d1 = invR0 * (m0[j] - m1[j]);
                x[j] = c1 * x[j] + c2 * m0[j] + c3 * d1 + c4 * z[j];
            }
        }
    }

    private void thirdOrder(int i, float[] x, float[] z) {
        float[] m0 = modelOutputs[2];
        float[] m1 = modelOutputs[1];
        float[] m2 = modelOutputs[0];
        float sT = (float) sigmas[i + 1];
        float alphaT = alphaT(sT);
        float sigmaT = sT * alphaT;
        float alphaS0 = alphaT((float) sigmas[i]);
        float sigmaS0 = (float) sigmas[i] * alphaS0;
        float lambdaT = lambdaOf(alphaT, sigmaT);
        float lambdaS0 = lambdaOf(alphaS0, sigmaS0);
        float lambdaS1 = lambda((float) sigmas[i - 1]);
        float lambdaS2 = lambda((float) sigmas[i - 2]);
        float h = lambdaT - lambdaS0;
        float h0 = lambdaS0 - lambdaS1;
        float h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h;
        float r1 = h1 / h;
        float invR0 = 1f / r0;
        float invR1 = 1f / r1;
        float w1 = r0 / (r0 + r1);
        float w2 = 1f / (r0 + r1);
        int n = x.length;
        float c1;
        float c2;
        float c3;
        float c4;
        float c5 = 0f;
        if (z == null) {
            c1 = sigmaT / sigmaS0;
            c2 = alphaT * (exp(-h) - 1f);
            c3 = alphaT * ((exp(-h) - 1f) / h + 1f);
            c4 = alphaT * ((exp(-h) - 1f + h) / (h * h) - 0.5f);
            for (int j = 0; j < n; j++) {
                float d10 = invR0 * (m0[j] - m1[j]);
                float d11 = invR1 * (m1[j] - m2[j]);
                float d1 = d10 + w1 * (d10 - d11);
                float d2 = w2 * (d10 - d11);
                x[j] = c1 * x[j] - c2 * m0[j] + c3 * d1 - c4 * d2;
            }
        } else {
            float e2 = exp(-2f * h);
            c1 = sigmaT / sigmaS0 * exp(-h);
            c2 = alphaT * (1f - e2);
            c3 = alphaT * ((1f - e2) / (-2f * h) + 1f);
            float twoH = 2f * h;
            c4 = alphaT * ((1f - e2 - 2f * h) / (twoH * twoH) - 0.5f);
            c5 = sigmaT * (float) Math.sqrt(1f - e2);
            for (int j = 0; j < n; j++) {
                float d10 = invR0 * (m0[j] - m1[j]);
                float d11 = invR1 * (m1[j] - m2[j]);
                float d1 = d10 + w1 * (d10 - d11);
                float d2 = w2 * (d10 - d11);
                x[j] = c1 * x[j] + c2 * m0[j] + c3 * d1 + c4 * d2 + c5 * z[j];
            }
        }
    }

    private static float lambdaOf(float alpha, float sigmaT) {
        return (float) Math.log(alpha) - (float) Math.log(sigmaT);
    }

    private static float exp(float x) {
        return (float) Math.exp(x);
    }

    /**
     * diffusers' pipeline loop with this solver, from user step {@code startStep} of {@code plan} (the plan
     * it was made for): the model at each timestep on the sample as it is ({@code scale_model_input} is
     * the identity for these schedulers), then {@link #step}. {@code latents} is not changed.
     */
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        for (int i = startStep; i < steps; i++) {
            float[] out = model.predict(x, timesteps[i]);
            step(out, i, x, noise);
            p.step(i + 1, steps);
        }
        return x;
    }

    /**
     * diffusers' {@code add_noise} for these schedulers: {@code alpha_t * x0 + sigma_t * noise} with
     * {@code alpha_t, sigma_t} of the start step's sigma, in float32.
     */
    public static float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        float sigma = (float) plan.sigmas()[startStep];
        float alpha = alphaT(sigma);
        float sigmaT = sigma * alpha;
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alpha * original[i] + sigmaT * noise[i];
        }
        return out;
    }
}
