package io.jdiffusion.samplers.dpm2;

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
import io.jdiffusion.api.Sigmas;
import org.osgi.service.component.annotations.Component;

/**
 * DPM-Solver-2 as k-diffusion's {@code sample_dpm_2}, exactly as diffusers' {@code KDPM2DiscreteScheduler}:
 * the same float32 timesteps and sigmas, midpoint sigmas {@code exp(lerp(log s_i, log s_{i-1}, 0.5))} in
 * float32, their timesteps by {@code _sigma_to_t}, {@code init_noise_sigma}, {@code scale_model_input} and
 * float32 step arithmetic, with the model called as the diffusers pipeline calls it over the scheduler's
 * interleaved timesteps.
 *
 * <p><b>Plan and interleaving.</b> The {@link SamplerPlan} holds the user-visible steps: {@code steps}
 * timesteps {@code t_i} and {@code steps + 1} sigmas {@code s_i} (the last 0), {@link SamplerPlan#order()} 2.
 * The {@link Stepper} derives diffusers' interleaved arrays from it: the midpoint sigmas
 * {@code m_i = sqrt(s_{i-1} s_i)} (as diffusers computes them, {@code m_n = 0}) and their timesteps
 * {@code u_i}, {@code timesteps = [t0, u1, t1, u2, t2, ..., u_{n-1}, t_{n-1}]} (2n - 1 model calls). User
 * step {@code i} is call {@code 2i} (model at {@code t_i}, Euler half-step to {@code m_{i+1}}) and, except
 * for the last step, call {@code 2i + 1} (model at {@code u_{i+1}} on the midpoint, then the full step to
 * {@code s_{i+1}} from the stored sample with the midpoint slope). The last step is a plain Euler step to 0,
 * as in diffusers and k-diffusion. img2img starting at user step {@code k} starts at call {@code 2k}, noised
 * to {@code s_k}.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas ({@code beta_start} default 0.00085,
 * {@code beta_end} 0.012, {@code beta_schedule}, {@code trained_betas}), {@code prediction_type} (epsilon,
 * v_prediction; diffusers does not implement sample), {@code timestep_spacing} (default {@code linspace}),
 * {@code steps_offset}, {@code use_karras_sigmas} (timesteps rounded to whole numbers, as diffusers rounds
 * them for this scheduler), {@code use_exponential_sigmas}. A {@link SamplerSettings#schedule()} replaces the
 * sigma spacing the way those keys do; when it gives exactly the Karras sigmas its timesteps are rounded too.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpm2", Plugin.LABEL + "=DPM2"})
public class Dpm2Sampler implements Sampler {
    static final DiscreteSigmaPlan.Options OPTIONS = new DiscreteSigmaPlan.Options("linspace", true,
            DiscreteSigmaPlan.ScheduleTimesteps.FLOAT64_ROUND_KARRAS, 2);

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        if (config.predictionType() == PredictionType.SAMPLE) {
            throw new IllegalArgumentException("DPM2 does not support prediction_type sample (diffusers does not "
                    + "implement it)");
        }
        return DiscreteSigmaPlan.plan(config, alphasCumprod(config), steps, settings, OPTIONS);
    }

    /** ᾱ with KDPM2DiscreteScheduler's own defaults (beta 0.00085..0.012); it has no rescale_betas_zero_snr. */
    static float[] alphasCumprod(SchedulerConfig config) {
        return DiscreteSigmaPlan.alphasCumprodSdBetas(config, false);
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
     * diffusers' {@code scale_model_input} and {@code step} over the interleaved calls {@code k = 0 .. 2n - 2},
     * with the scheduler's first/second-order state, in float32. Package-private so tests can drive them with
     * diffusers' own test loops.
     */
    static final class Stepper implements InterleavedStepper {
        private final double[] timesteps;
        private final float[] sigmas;
        private final float[] sigmasInterpol;
        private final double[] timestepsInterpol;
        private final PredictionType prediction;
        private float[] storedSample;

        Stepper(SamplerPlan plan) {
            this.timesteps = plan.timesteps();
            int n = timesteps.length;
            this.sigmas = new float[n + 1];
            for (int i = 0; i <= n; i++) {
                sigmas[i] = (float) plan.sigmas()[i];
            }
            this.prediction = plan.config().predictionType();
            // sigmas_interpol = sigmas.log().lerp(sigmas.roll(1).log(), 0.5).exp(), float32: torch's lerp at weight
            // 0.5 is end - (end - start) * 0.5. Index 0 (NaN in diffusers) is never read; index n is exp(-inf) = 0.
            this.sigmasInterpol = new float[n + 1];
            sigmasInterpol[0] = Float.NaN;
            for (int i = 1; i < n; i++) {
                float start = (float) Math.log(sigmas[i]);
                float end = (float) Math.log(sigmas[i - 1]);
                sigmasInterpol[i] = (float) Math.exp(end - (end - start) * 0.5f);
            }
            sigmasInterpol[n] = 0f;
            // timesteps_interpol = _sigma_to_t(sigmas_interpol, log_sigmas), held as float32
            float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(alphasCumprod(plan.config())));
            this.timestepsInterpol = new double[n + 1];
            timestepsInterpol[0] = Double.NaN;
            for (int i = 1; i <= n; i++) {
                timestepsInterpol[i] = (float) Sigmas.sigmaToT(sigmasInterpol[i], logSigmas);
            }
        }

        /** Model calls of a full run: {@code 2 * steps - 1}. */
        @Override
        public int calls() {
            return 2 * timesteps.length - 1;
        }

        /** The interleaved {@code timesteps[k]}: {@code t_i} at {@code k = 2i}, {@code u_{i+1}} at {@code k = 2i + 1}. */
        @Override
        public double timestep(int k) {
            return k % 2 == 0 ? timesteps[k / 2] : timestepsInterpol[(k + 1) / 2];
        }

        /** The interleaved {@code sigmas[k]}: {@code s_{(k+1)/2}}, then 0 ({@code cat([s[:1], s[1:].repeat_interleave(2), s[-1:]])}). */
        float sigma(int k) {
            return sigmas[Math.min((k + 1) / 2, sigmas.length - 1)];
        }

        /** The interleaved {@code sigmas_interpol[k]}: {@code m_{(k+1)/2}}. */
        float sigmaInterpol(int k) {
            return sigmasInterpol[Math.min((k + 1) / 2, sigmasInterpol.length - 1)];
        }

        boolean inFirstOrder() {
            return storedSample == null;
        }

        /** {@code scale_model_input}: {@code sample / (sigma**2 + 1) ** 0.5}, sigma the step's or the midpoint's. */
        @Override
        public void scaleModelInput(float[] sample, int k, float[] out) {
            float sigma = inFirstOrder() ? sigma(k) : sigmaInterpol(k);
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
            float sigmaHat; // gamma = 0: sigma_hat = sigma
            float sigmaInterpol;
            float sigmaNext;
            if (first) {
                sigmaHat = sigma(k);
                sigmaInterpol = sigmaInterpol(k + 1);
                sigmaNext = sigma(k + 1);
            } else {
                sigmaHat = sigma(k - 1);
                sigmaInterpol = sigmaInterpol(k);
                sigmaNext = sigma(k);
            }
            float sigmaInput = first ? sigmaHat : sigmaInterpol;
            float[] x0 = predictOriginal(modelOutput, sample, sigmaInput);
            if (first) {
                float dt = sigmaInterpol - sigmaHat;
                storedSample = sample.clone();
                for (int j = 0; j < n; j++) {
                    float derivative = (sample[j] - x0[j]) / sigmaHat;
                    sample[j] = sample[j] + derivative * dt;
                }
            } else {
                float dt = sigmaNext - sigmaHat;
                for (int j = 0; j < n; j++) {
                    float derivative = (sample[j] - x0[j]) / sigmaInterpol;
                    sample[j] = storedSample[j] + derivative * dt;
                }
                storedSample = null;
            }
        }

        private float[] predictOriginal(float[] modelOutput, float[] sample, float sigma) {
            if (prediction == PredictionType.SAMPLE) { // plan() refuses it; diffusers does not implement it
                throw new IllegalStateException("DPM2 does not support prediction type " + prediction);
            }
            return DiscreteSigmaPlan.predictOriginal(prediction, modelOutput, sample, sigma);
        }
    }
}
