package io.jdiffusion.samplers.euler_a;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * Euler ancestral, exactly as diffusers' {@code EulerAncestralDiscreteScheduler} (after k-diffusion's
 * {@code sample_euler_ancestral}): the same float32 timesteps and sigmas, {@code init_noise_sigma},
 * {@code scale_model_input}, float32 step arithmetic, and one {@code randn} of the latent size per
 * step (the last step included, where it is multiplied by {@code sigma_up = 0}), as diffusers draws
 * it with {@code randn_tensor}, so a seeded run gives diffusers' numbers.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas, {@code prediction_type} (epsilon or
 * v_prediction; diffusers does not implement sample), {@code timestep_spacing} (default
 * {@code linspace}), {@code steps_offset}, {@code rescale_betas_zero_snr}. diffusers' scheduler has no
 * Karras / exponential sigmas, so this sampler takes no schedule.
 *
 * <p>Parameters beyond diffusers, from k-diffusion: {@code eta} and {@code s_noise}. At their defaults
 * (1, 1) the step is diffusers' to the bit; otherwise it is k-diffusion's {@code get_ancestral_step}
 * ({@code sigma_up = min(sigma_to, eta * ...)}) and {@code noise * s_noise * sigma_up}. {@code eta = 0}
 * is the deterministic Euler method and draws no noise.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=euler_a", Plugin.LABEL + "=Euler a"})
public class EulerAncestralSampler implements Sampler {
    public static final String ETA = "eta";
    public static final String S_NOISE = "s_noise";

    static final DiscreteSigmaPlan.Options OPTIONS =
            new DiscreteSigmaPlan.Options("linspace", false, DiscreteSigmaPlan.ScheduleTimesteps.FLOAT32, 1);

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ETA, 1.0, 0.0, 1.0,
                    "Ancestral noise: share of each step re-noised (1 = diffusers / A1111 default, 0 = plain Euler)"),
            new ParameterSpec(S_NOISE, 1.0, 0.0, 2.0,
                    "Scale of the ancestral noise"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        if (config.predictionType() == PredictionType.SAMPLE) {
            throw new IllegalArgumentException("Euler a does not support prediction_type sample (diffusers does not "
                    + "implement it)");
        }
        return DiscreteSigmaPlan.plan(config, DiscreteSigmaPlan.alphasCumprod(config, true, false), steps, settings,
                OPTIONS);
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

    /** diffusers' {@code add_noise}: {@code original + noise * sigma} in float32. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DiscreteSigmaPlan.addNoise(original, noise, plan, startStep);
    }

    /**
     * diffusers' {@code scale_model_input} and {@code step} for one plan, in float32. Package-private so
     * tests can drive them with diffusers' own test loops.
     */
    static final class Stepper {
        private final double[] sigmas;
        private final PredictionType prediction;
        private final float eta;
        private final float sNoise;

        Stepper(SamplerPlan plan) {
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.sigmas = plan.sigmas();
            this.prediction = plan.config().predictionType();
            this.eta = (float) settings.param(ETA, 1.0);
            this.sNoise = (float) settings.param(S_NOISE, 1.0);
            if (!(eta >= 0f)) {
                throw new IllegalArgumentException("eta must be >= 0, not " + eta);
            }
        }

        /** {@code scale_model_input}: {@code sample / (sigma**2 + 1) ** 0.5} into {@code out}. */
        void scaleModelInput(float[] sample, int i, float[] out) {
            float sigma = (float) sigmas[i];
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            for (int j = 0; j < sample.length; j++) {
                out[j] = sample[j] / scale;
            }
        }

        /** {@code sigma_up} and {@code sigma_down} of the step from {@code sigmas[i]} to {@code sigmas[i + 1]}. */
        float[] ancestralStep(int i) {
            float from = (float) sigmas[i];
            float to = (float) sigmas[i + 1];
            if (eta == 0f) {
                return new float[] {0f, to};
            }
            // (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5, float32 tensors
            float up = (float) Math.sqrt(to * to * (from * from - to * to) / (from * from));
            if (eta != 1f) {
                // k-diffusion get_ancestral_step: min(sigma_to, eta * ...)
                up = Math.min(to, eta * up);
            }
            float down = (float) Math.sqrt(to * to - up * up);
            return new float[] {up, down};
        }

        /** {@code step(model_output, timesteps[i], sample, generator)}: {@code sample} becomes {@code prev_sample}. */
        void step(float[] modelOutput, int i, float[] sample, NoiseSource noise) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n
                        + " latents");
            }
            float sigma = (float) sigmas[i];
            float[] ud = ancestralStep(i);
            float sigmaUp = ud[0];
            float dt = ud[1] - sigma;
            switch (prediction) {
                case EPSILON:
                    for (int j = 0; j < n; j++) {
                        float denoised = sample[j] - sigma * modelOutput[j];
                        float derivative = (sample[j] - denoised) / sigma;
                        sample[j] = sample[j] + derivative * dt;
                    }
                    break;
                case V_PREDICTION: {
                    float c = sigma * sigma + 1f;
                    float cOut = -sigma / (float) Math.sqrt(c);
                    for (int j = 0; j < n; j++) {
                        float denoised = modelOutput[j] * cOut + sample[j] / c;
                        float derivative = (sample[j] - denoised) / sigma;
                        sample[j] = sample[j] + derivative * dt;
                    }
                    break;
                }
                default:
                    throw new IllegalStateException("Euler a does not support prediction type " + prediction);
            }
            if (eta == 0f) {
                return;
            }
            // randn_tensor(model_output.shape, generator=generator): one draw every step
            float[] eps = noise.randn(n);
            for (int j = 0; j < n; j++) {
                sample[j] = sample[j] + eps[j] * sNoise * sigmaUp;
            }
        }
    }
}
