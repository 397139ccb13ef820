package io.jdiffusion.samplers.euler;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.NoiseSchedule;
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
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * Euler (Karras et al. 2022, Algorithm 2), exactly as diffusers' {@code EulerDiscreteScheduler}:
 * same timesteps and sigmas (float32), same {@code init_noise_sigma}, same
 * {@code scale_model_input}, the same float32 step arithmetic and the same churn noise draw, so
 * a run gives diffusers' numbers for the same config, model and generator.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas, {@code prediction_type},
 * {@code timestep_spacing} (default {@code linspace}), {@code steps_offset},
 * {@code interpolation_type}, {@code use_karras_sigmas}, {@code use_exponential_sigmas},
 * {@code sigma_min}, {@code sigma_max}, {@code final_sigmas_type}, {@code timestep_type},
 * {@code rescale_betas_zero_snr}. A {@link SamplerSettings#schedule()} replaces the sigma spacing
 * the way {@code use_karras_sigmas} does in diffusers.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=euler", Plugin.LABEL + "=Euler"})
public class EulerSampler implements Sampler {
    public static final String S_CHURN = "s_churn";
    public static final String S_TMIN = "s_tmin";
    public static final String S_TMAX = "s_tmax";
    public static final String S_NOISE = "s_noise";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(S_CHURN, 0.0, 0.0, 100.0,
                    "Stochasticity: noise added back at each step (gamma = min(s_churn / steps, sqrt(2) - 1)); 0 = deterministic"),
            new ParameterSpec(S_TMIN, 0.0, 0.0, Double.POSITIVE_INFINITY,
                    "Churn only at sigmas at or above this"),
            new ParameterSpec(S_TMAX, Double.POSITIVE_INFINITY, 0.0, Double.POSITIVE_INFINITY,
                    "Churn only at sigmas at or below this"),
            new ParameterSpec(S_NOISE, 1.0, 0.0, 2.0,
                    "Scale of the churn noise"));

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        float[] alphasCumprod = alphasCumprod(config);
        int numTrain = alphasCumprod.length;
        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] logSigmas = Sigmas.logFloat32(trainSigmas);
        String spacing = config.timestepSpacing("linspace");

        // timesteps: float32, as diffusers holds them
        double[] spaced = Sigmas.spacedTimesteps(spacing, numTrain, steps, config.stepsOffset());
        if (spaced.length != steps) {
            throw new IllegalArgumentException("timestep_spacing " + spacing + " gives " + spaced.length
                    + " timesteps for " + steps + " steps");
        }
        double[] timesteps = Sigmas.toFloat32(spaced);

        double[] sigmas;
        String interpolation = config.getString("interpolation_type", "linear");
        switch (interpolation) {
            case "linear":
                sigmas = new double[steps];
                for (int i = 0; i < steps; i++) {
                    sigmas[i] = Sigmas.interpIndex(timesteps[i], trainSigmas);
                }
                break;
            case "log_linear": {
                // torch.linspace(log(sigmas[-1]), log(sigmas[0]), steps + 1).exp(): one value more than
                // there are steps, as diffusers has it
                float[] l = Sigmas.linspaceFloat32((float) Math.log(trainSigmas[numTrain - 1]),
                        (float) Math.log(trainSigmas[0]), steps + 1);
                sigmas = new double[steps + 1];
                for (int i = 0; i < l.length; i++) {
                    sigmas[i] = (float) Math.exp(l[i]);
                }
                break;
            }
            default:
                throw new IllegalArgumentException("scheduler_config.json: interpolation_type must be linear or "
                        + "log_linear, not " + interpolation);
        }

        NoiseSchedule schedule = DiscreteSigmaPlan.noiseSchedule(config, s);
        if (schedule != null) {
            double sigmaMin = config.has("sigma_min") ? config.getDouble("sigma_min", 0) : sigmas[sigmas.length - 1];
            double sigmaMax = config.has("sigma_max") ? config.getDouble("sigma_max", 0) : sigmas[0];
            double[] spacedSigmas = schedule.sigmas(steps, sigmaMin, sigmaMax);
            if (spacedSigmas == null || spacedSigmas.length != steps) {
                throw new IllegalStateException("noise schedule gave " + (spacedSigmas == null ? "no" : spacedSigmas.length)
                        + " sigmas for " + steps + " steps");
            }
            sigmas = spacedSigmas.clone();
            for (int i = 0; i < steps; i++) {
                timesteps[i] = (float) Sigmas.sigmaToT(sigmas[i], logSigmas);
            }
        }

        float sigmaLast;
        String finalType = config.getString("final_sigmas_type", "zero");
        switch (finalType) {
            case "zero":
                sigmaLast = 0f;
                break;
            case "sigma_min":
                sigmaLast = (float) Math.sqrt((1f - alphasCumprod[0]) / alphasCumprod[0]);
                break;
            default:
                throw new IllegalArgumentException("scheduler_config.json: final_sigmas_type must be zero or "
                        + "sigma_min, not " + finalType);
        }
        // diffusers' sigmas tensor: the spaced sigmas, then the final one, as float32. With log_linear
        // interpolation it holds one more value than the loop reads; the plan keeps the steps + 1 it reads.
        double[] all = new double[sigmas.length + 1];
        float max = sigmaLast;
        for (int i = 0; i < sigmas.length; i++) {
            all[i] = (float) sigmas[i];
            max = Math.max(max, (float) sigmas[i]);
        }
        all[sigmas.length] = sigmaLast;
        double[] planSigmas = new double[steps + 1];
        System.arraycopy(all, 0, planSigmas, 0, steps + 1);

        if (continuousTimesteps(config)) {
            for (int i = 0; i < steps; i++) {
                timesteps[i] = 0.25f * (float) Math.log((float) planSigmas[i]);
            }
        }

        double initNoiseSigma = "linspace".equals(spacing) || "trailing".equals(spacing)
                ? max : (float) Math.sqrt(max * max + 1f);
        return new SamplerPlan(timesteps, planSigmas, initNoiseSigma, 1, config, s);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        Stepper stepper = new Stepper(plan);
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        float[] scaled = new float[x.length];
        for (int i = startStep; i < steps; i++) {
            stepper.scaleModelInput(x, i, scaled);
            float[] out = model.predict(scaled, timesteps[i]);
            stepper.step(out, i, x, noise);
            p.step(i + 1, steps);
        }
        return x;
    }

    /**
     * diffusers' {@code scale_model_input} and {@code step} for one plan, in float32. Package-private
     * so tests can drive them with diffusers' own test loops.
     */
    static final class Stepper {
        private final double[] sigmas;
        private final PredictionType prediction;
        private final double sChurn;
        private final float sTmin;
        private final float sTmax;
        private final float sNoise;
        private final int churnDenominator;

        Stepper(SamplerPlan plan) {
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.sigmas = plan.sigmas();
            this.prediction = plan.config().predictionType();
            this.sChurn = settings.param(S_CHURN, 0.0);
            this.sTmin = (float) settings.param(S_TMIN, 0.0);
            this.sTmax = (float) settings.param(S_TMAX, Double.POSITIVE_INFINITY);
            this.sNoise = (float) settings.param(S_NOISE, 1.0);
            // len(self.sigmas) - 1 in diffusers, whose sigmas hold one extra value with log_linear interpolation
            this.churnDenominator = sigmas.length - 1 + (logLinearQuirk(plan.config(), settings) ? 1 : 0);
        }

        /** {@code scale_model_input}: {@code sample / (sigma**2 + 1) ** 0.5} into {@code out}. */
        void scaleModelInput(float[] sample, int i, float[] out) {
            float sigma = (float) sigmas[i];
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            for (int j = 0; j < sample.length; j++) {
                out[j] = sample[j] / scale;
            }
        }

        /** {@code step(model_output, timesteps[i], sample)}: {@code sample} becomes {@code prev_sample}. */
        void step(float[] modelOutput, int i, float[] sample, NoiseSource noise) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n
                        + " latents");
            }
            float sigma = (float) sigmas[i];
            double gamma = sTmin <= sigma && sigma <= sTmax
                    ? Math.min(sChurn / churnDenominator, Math.sqrt(2) - 1) : 0.0;
            float sigmaHat = sigma * (float) (gamma + 1);
            if (gamma > 0) {
                float[] eps = noise.randn(n);
                float churn = (float) Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
                for (int j = 0; j < n; j++) {
                    sample[j] = sample[j] + (eps[j] * sNoise) * churn;
                }
            }
            float dt = (float) sigmas[i + 1] - sigmaHat;
            switch (prediction) {
                case EPSILON:
                    for (int j = 0; j < n; j++) {
                        float denoised = sample[j] - sigmaHat * modelOutput[j];
                        float derivative = (sample[j] - denoised) / sigmaHat;
                        sample[j] = sample[j] + derivative * dt;
                    }
                    break;
                case V_PREDICTION: {
                    float c = sigma * sigma + 1f;
                    float cOut = -sigma / (float) Math.sqrt(c);
                    for (int j = 0; j < n; j++) {
                        float denoised = modelOutput[j] * cOut + sample[j] / c;
                        float derivative = (sample[j] - denoised) / sigmaHat;
                        sample[j] = sample[j] + derivative * dt;
                    }
                    break;
                }
                case SAMPLE:
                    for (int j = 0; j < n; j++) {
                        float derivative = (sample[j] - modelOutput[j]) / sigmaHat;
                        sample[j] = sample[j] + derivative * dt;
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown prediction type " + prediction);
            }
        }
    }

    /** diffusers' {@code add_noise}: {@code original + noise * sigma} in float32. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DiscreteSigmaPlan.addNoise(original, noise, plan, startStep);
    }

    /** ᾱ as this scheduler uses them: with zero terminal SNR the last one is 2^-24 so the first sigma stays finite. */
    static float[] alphasCumprod(SchedulerConfig config) {
        float[] ac = config.alphasCumprod();
        if (config.getBoolean("rescale_betas_zero_snr", false)) {
            ac = ac.clone();
            ac[ac.length - 1] = 0x1p-24f;
        }
        return ac;
    }

    private static boolean logLinearQuirk(SchedulerConfig config, SamplerSettings settings) {
        return "log_linear".equals(config.getString("interpolation_type", "linear"))
                && DiscreteSigmaPlan.noiseSchedule(config, settings) == null;
    }

    private static boolean continuousTimesteps(SchedulerConfig config) {
        String type = config.getString("timestep_type", "discrete");
        if (!"discrete".equals(type) && !"continuous".equals(type)) {
            throw new IllegalArgumentException("scheduler_config.json: timestep_type must be discrete or continuous, not "
                    + type);
        }
        return "continuous".equals(type) && config.predictionType() == PredictionType.V_PREDICTION;
    }
}
