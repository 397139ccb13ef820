package io.jdiffusion.samplers.heun;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.InterleavedStepper;
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
 * Heun's method (Karras et al. 2022, Algorithm 1 with no churn), exactly as diffusers'
 * {@code HeunDiscreteScheduler}: the same float32 timesteps and sigmas, {@code init_noise_sigma},
 * {@code scale_model_input} and float32 step arithmetic, and the model called as the diffusers pipeline
 * calls it over the scheduler's interleaved timesteps.
 *
 * <p><b>Plan and interleaving.</b> The {@link SamplerPlan} holds the user-visible steps: {@code steps}
 * timesteps {@code t_i} and {@code steps + 1} sigmas {@code s_i} (the last 0), with
 * {@link SamplerPlan#order()} 2. diffusers' scheduler holds them interleaved,
 * {@code timesteps = [t0, t1, t1, t2, t2, ..., t_{n-1}, t_{n-1}]} (2n - 1 model calls) and
 * {@code sigmas = [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0]}; the {@link Stepper} derives those from the
 * plan. User step {@code i} is call {@code 2i} (an Euler step from {@code s_i} to {@code s_{i+1}} with
 * the model at {@code t_i}) and, except for the last step, call {@code 2i + 1} (the model at
 * {@code t_{i+1}} on the Euler prediction, then the averaged-slope correction). The last step is a plain
 * Euler step to sigma 0, as in diffusers (and k-diffusion). img2img starting at user step {@code k} starts
 * at call {@code 2k} (diffusers' {@code timesteps[t_start * order:]}), noised to {@code s_k}.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas ({@code beta_start} default 0.00085,
 * {@code beta_end} 0.012, {@code beta_schedule} linear / scaled_linear / squaredcos_cap_v2 / exp,
 * {@code trained_betas}), {@code prediction_type} (epsilon, v_prediction, sample),
 * {@code clip_sample} (default false), {@code clip_sample_range} (1), {@code timestep_spacing} (default
 * {@code linspace}), {@code steps_offset}, {@code use_karras_sigmas}, {@code use_exponential_sigmas}. A
 * {@link SamplerSettings#schedule()} replaces the sigma spacing the way {@code use_karras_sigmas} does.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=heun", Plugin.LABEL + "=Heun"})
public class HeunSampler implements Sampler {
    static final DiscreteSigmaPlan.Options OPTIONS =
            new DiscreteSigmaPlan.Options("linspace", true, DiscreteSigmaPlan.ScheduleTimesteps.FLOAT32, 2);

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        return DiscreteSigmaPlan.plan(config, alphasCumprod(config), steps, settings, OPTIONS);
    }

    /** ᾱ with HeunDiscreteScheduler's own defaults (beta 0.00085..0.012); it has no rescale_betas_zero_snr. */
    static float[] alphasCumprod(SchedulerConfig config) {
        return DiscreteSigmaPlan.alphasCumprodSdBetas(config, true);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        return InterleavedStepper.sample(new Stepper(plan), model, latents, plan, startStep, noise, progress);
    }

    /** diffusers' {@code add_noise}: {@code original + noise * sigma} in float32, at user step {@code startStep}. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DiscreteSigmaPlan.addNoise(original, noise, plan, startStep);
    }

    /**
     * diffusers' {@code scale_model_input} and {@code step} over the interleaved calls
     * {@code k = 0 .. 2n - 2}, with the scheduler's first/second-order state, in float32.
     * Package-private so tests can drive them with diffusers' own test loops.
     */
    static final class Stepper implements InterleavedStepper {
        private final double[] timesteps;
        private final double[] sigmas;
        private final PredictionType prediction;
        private final boolean clip;
        private final float clipRange;
        private float[] prevDerivative;
        private float[] storedSample;
        private float dt;

        Stepper(SamplerPlan plan) {
            this.timesteps = plan.timesteps();
            this.sigmas = plan.sigmas();
            this.prediction = plan.config().predictionType();
            this.clip = plan.config().getBoolean("clip_sample", false);
            this.clipRange = (float) plan.config().getDouble("clip_sample_range", 1.0);
        }

        /** Model calls of a full run: {@code 2 * steps - 1}. */
        @Override
        public int calls() {
            return 2 * timesteps.length - 1;
        }

        /** The interleaved {@code timesteps[k]}: {@code t_{(k+1)/2}}. */
        @Override
        public double timestep(int k) {
            return timesteps[(k + 1) / 2];
        }

        /** The interleaved {@code sigmas[k]}: {@code s_{(k+1)/2}} ({@code k <= 2n - 1}). */
        float sigma(int k) {
            return (float) sigmas[(k + 1) / 2];
        }

        boolean inFirstOrder() {
            return prevDerivative == null;
        }

        /** {@code scale_model_input}: {@code sample / (sigmas[k]**2 + 1) ** 0.5} into {@code out}. */
        @Override
        public void scaleModelInput(float[] sample, int k, float[] out) {
            float sigma = sigma(k);
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            for (int j = 0; j < sample.length; j++) {
                out[j] = sample[j] / scale;
            }
        }

        /** The interface's {@code step}: this stepper draws no noise. */
        @Override
        public void step(float[] modelOutput, int k, float[] sample, NoiseSource noise) {
            step(modelOutput, k, sample);
        }

        /** {@code step(model_output, timesteps[k], sample)}: {@code sample} becomes {@code prev_sample}. */
        void step(float[] modelOutput, int k, float[] sample) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n
                        + " latents");
            }
            boolean first = inFirstOrder();
            float sigmaHat = first ? sigma(k) : sigma(k - 1); // gamma = 0: sigma_hat = sigma
            float sigmaNext = first ? sigma(k + 1) : sigma(k);
            float sigmaInput = first ? sigmaHat : sigmaNext;
            float[] x0 = predictOriginal(modelOutput, sample, sigmaInput);
            if (first) {
                float[] derivative = new float[n];
                for (int j = 0; j < n; j++) {
                    derivative[j] = (sample[j] - x0[j]) / sigmaHat;
                }
                dt = sigmaNext - sigmaHat;
                prevDerivative = derivative;
                storedSample = sample.clone();
                for (int j = 0; j < n; j++) {
                    sample[j] = sample[j] + derivative[j] * dt;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    float derivative = (sample[j] - x0[j]) / sigmaNext;
                    derivative = (prevDerivative[j] + derivative) / 2;
                    sample[j] = storedSample[j] + derivative * dt;
                }
                prevDerivative = null;
                storedSample = null;
            }
        }

        private float[] predictOriginal(float[] modelOutput, float[] sample, float sigma) {
            float[] x0 = DiscreteSigmaPlan.predictOriginal(prediction, modelOutput, sample, sigma);
            if (clip) {
                for (int j = 0; j < x0.length; j++) {
                    x0[j] = Math.min(Math.max(x0[j], -clipRange), clipRange);
                }
            }
            return x0;
        }
    }
}
