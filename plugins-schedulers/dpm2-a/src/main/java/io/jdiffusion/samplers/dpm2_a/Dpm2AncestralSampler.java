package io.jdiffusion.samplers.dpm2_a;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.InterleavedStepper;
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
 * Ancestral DPM-Solver-2 as k-diffusion's {@code sample_dpm_2_ancestral}, exactly as diffusers'
 * {@code KDPM2AncestralDiscreteScheduler}: the same float32 timesteps and sigmas, {@code sigma_up},
 * {@code sigma_down} and midpoint sigmas {@code exp(lerp(log s_i, log sigma_down_i, 0.5))} in float32, the
 * midpoints' timesteps by {@code _sigma_to_t}, {@code init_noise_sigma}, {@code scale_model_input}, float32 step
 * arithmetic, and one {@code randn} of the latent size after each second-order call, as diffusers draws it
 * with {@code randn_tensor}, so a seeded run gives diffusers' numbers.
 *
 * <p><b>Plan and interleaving.</b> The {@link SamplerPlan} holds the user-visible steps: {@code steps}
 * timesteps {@code t_i} and {@code steps + 1} sigmas {@code s_i} (the last 0), {@link SamplerPlan#order()} 2.
 * The {@link Stepper} derives diffusers' interleaved arrays from it: {@code sigma_up_i}, {@code sigma_down_i}
 * of the step {@code s_i -> s_{i+1}}, the midpoints {@code m_i = sqrt(s_i sigma_down_i)} ({@code m_{n-1} = 0})
 * and their timesteps {@code u_i}, {@code timesteps = [t0, u0, t1, u1, ..., u_{n-2}, t_{n-1}]} (2n - 1 model
 * calls). User step {@code i} is call {@code 2i} (model at {@code t_i}, Euler half-step to {@code m_i}) and,
 * except for the last step, call {@code 2i + 1} (model at {@code u_i} on the midpoint, the step to
 * {@code sigma_down_i} from the stored sample with the midpoint slope, then {@code + noise * sigma_up_i}).
 * The last step is a plain Euler step to 0 with no noise, as in diffusers. img2img starting at user step
 * {@code k} starts at call {@code 2k}, noised to {@code s_k}.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas ({@code beta_start} default 0.00085,
 * {@code beta_end} 0.012, {@code beta_schedule}, {@code trained_betas}), {@code prediction_type} (epsilon,
 * v_prediction; diffusers does not implement sample), {@code timestep_spacing} (default {@code linspace}),
 * {@code steps_offset}, {@code use_karras_sigmas} (timesteps rounded, as diffusers rounds them here),
 * {@code use_exponential_sigmas}; a {@link SamplerSettings#schedule()} replaces the sigma spacing the same way.
 *
 * <p>Parameters beyond diffusers, from k-diffusion: {@code eta} and {@code s_noise}. At their defaults
 * (1, 1) the numbers are diffusers'; otherwise {@code sigma_up = min(s_{i+1}, eta * ...)} as k-diffusion's
 * {@code get_ancestral_step}, and the noise is {@code noise * s_noise * sigma_up}. {@code eta = 0} is the
 * deterministic DPM-Solver-2 and draws no noise.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpm2_a", Plugin.LABEL + "=DPM2 a"})
public class Dpm2AncestralSampler implements Sampler {
    public static final String ETA = "eta";
    public static final String S_NOISE = "s_noise";

    static final DiscreteSigmaPlan.Options OPTIONS = new DiscreteSigmaPlan.Options("linspace", true,
            DiscreteSigmaPlan.ScheduleTimesteps.FLOAT64_ROUND_KARRAS, 2);

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ETA, 1.0, 0.0, 1.0,
                    "Ancestral noise: share of each step re-noised (1 = diffusers / A1111 default, 0 = plain DPM2)"),
            new ParameterSpec(S_NOISE, 1.0, 0.0, 2.0,
                    "Scale of the ancestral noise"));

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
        if (config.predictionType() == PredictionType.SAMPLE) {
            throw new IllegalArgumentException("DPM2 a does not support prediction_type sample (diffusers does not "
                    + "implement it)");
        }
        return DiscreteSigmaPlan.plan(config, alphasCumprod(config), steps, settings, OPTIONS);
    }

    /** ᾱ with KDPM2AncestralDiscreteScheduler's own defaults (beta 0.00085..0.012); no rescale_betas_zero_snr. */
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
        private final float[] sigmasUp;
        private final float[] sigmasDown;
        private final float[] sigmasInterpol;
        private final double[] timestepsInterpol;
        private final PredictionType prediction;
        private final float eta;
        private final float sNoise;
        private float[] storedSample;

        Stepper(SamplerPlan plan) {
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.eta = (float) settings.param(ETA, 1.0);
            this.sNoise = (float) settings.param(S_NOISE, 1.0);
            if (!(eta >= 0f)) {
                throw new IllegalArgumentException("eta must be >= 0, not " + eta);
            }
            this.timesteps = plan.timesteps();
            this.prediction = plan.config().predictionType();
            int n = timesteps.length;
            this.sigmas = new float[n + 1];
            for (int i = 0; i <= n; i++) {
                sigmas[i] = (float) plan.sigmas()[i];
            }
            // sigmas_next = sigmas.roll(-1), last 0; sigma_up / sigma_down in float32 (index n, where diffusers has
            // 0 / 0 = NaN for sigma_up, is never read and held as 0)
            this.sigmasUp = new float[n + 1];
            this.sigmasDown = new float[n + 1];
            for (int i = 0; i < n; i++) {
                float from = sigmas[i];
                float to = sigmas[i + 1];
                float up;
                if (eta == 0f) {
                    up = 0f;
                } else {
                    up = (float) Math.sqrt(to * to * (from * from - to * to) / (from * from));
                    if (eta != 1f) {
                        up = Math.min(to, eta * up); // k-diffusion get_ancestral_step
                    }
                }
                sigmasUp[i] = up;
                // clamped at 0 where float32 rounding would make it negative (diffusers issue 14213: NaN there)
                sigmasDown[i] = (float) Math.sqrt(Math.max(to * to - up * up, 0f));
            }
            // sigmas_interpol = sigmas.log().lerp(sigmas_down.log(), 0.5).exp(), last two set to 0; torch's lerp at
            // weight 0.5 is end - (end - start) * 0.5
            this.sigmasInterpol = new float[n + 1];
            for (int i = 0; i < n - 1; i++) {
                if (sigmasDown[i] == 0f) {
                    sigmasInterpol[i] = 0f; // the geometric mean with 0 (diffusers: NaN from log(0))
                    continue;
                }
                float start = (float) Math.log(sigmas[i]);
                float end = (float) Math.log(sigmasDown[i]);
                sigmasInterpol[i] = (float) Math.exp(end - (end - start) * 0.5f);
            }
            // timesteps_interpol = _sigma_to_t(sigmas_interpol, log_sigmas), held as float32; diffusers interleaves
            // timesteps_interpol[:-2]
            float[] logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(alphasCumprod(plan.config())));
            this.timestepsInterpol = new double[Math.max(n - 1, 0)];
            for (int i = 0; i < n - 1; i++) {
                timestepsInterpol[i] = (float) Sigmas.sigmaToT(sigmasInterpol[i], logSigmas);
            }
        }

        /** Model calls of a full run: {@code 2 * steps - 1}. */
        @Override
        public int calls() {
            return 2 * timesteps.length - 1;
        }

        /** The interleaved {@code timesteps[k]}: {@code t_i} at {@code k = 2i}, {@code u_i} at {@code k = 2i + 1}. */
        @Override
        public double timestep(int k) {
            return k % 2 == 0 ? timesteps[k / 2] : timestepsInterpol[k / 2];
        }

        /** Index into the per-step arrays of diffusers' interleaved {@code cat([x[:1], x[1:].repeat_interleave(2), x[-1:]])}. */
        private int il(int k) {
            int n = sigmas.length - 1;
            return k < 0 ? n : Math.min((k + 1) / 2, n);
        }

        float sigma(int k) {
            return sigmas[il(k)];
        }

        float sigmaInterpol(int k) {
            return sigmasInterpol[il(k)];
        }

        float sigmaUp(int k) {
            return sigmasUp[il(k)];
        }

        float sigmaDown(int k) {
            return sigmasDown[il(k)];
        }

        boolean inFirstOrder() {
            return storedSample == null;
        }

        /** {@code scale_model_input}: {@code sample / (sigma**2 + 1) ** 0.5}, sigma the step's or the midpoint's. */
        @Override
        public void scaleModelInput(float[] sample, int k, float[] out) {
            float sigma = inFirstOrder() ? sigma(k) : sigmaInterpol(k - 1);
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            for (int j = 0; j < sample.length; j++) {
                out[j] = sample[j] / scale;
            }
        }

        /** {@code step(model_output, timesteps[k], sample, generator)}: {@code sample} becomes {@code prev_sample}. */
        @Override
        public void step(float[] modelOutput, int k, float[] sample, NoiseSource noise) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n
                        + " latents");
            }
            boolean first = inFirstOrder();
            float sigmaHat = first ? sigma(k) : sigma(k - 1); // gamma = 0: sigma_hat = sigma
            float sigmaInterpol = first ? sigmaInterpol(k) : sigmaInterpol(k - 1);
            float sigmaInput = first ? sigmaHat : sigmaInterpol;
            float[] x0 = predictOriginal(modelOutput, sample, sigmaInput);
            if (first) {
                float dt = sigmaInterpol - sigmaHat;
                storedSample = sample.clone();
                for (int j = 0; j < n; j++) {
                    float derivative = (sample[j] - x0[j]) / sigmaHat;
                    sample[j] = sample[j] + derivative * dt;
                }
                return;
            }
            float sigmaUp = sigmaUp(k - 1);
            float dt = sigmaDown(k - 1) - sigmaHat;
            for (int j = 0; j < n; j++) {
                float derivative = (sample[j] - x0[j]) / sigmaInterpol;
                sample[j] = storedSample[j] + derivative * dt;
            }
            storedSample = null;
            if (eta == 0f) {
                return;
            }
            // randn_tensor(model_output.shape, generator=generator) after every second-order call
            float[] eps = noise.randn(n);
            for (int j = 0; j < n; j++) {
                sample[j] = sample[j] + eps[j] * sNoise * sigmaUp;
            }
        }

        private float[] predictOriginal(float[] modelOutput, float[] sample, float sigma) {
            if (prediction == PredictionType.SAMPLE) { // plan() refuses it; diffusers does not implement it
                throw new IllegalStateException("DPM2 a does not support prediction type " + prediction);
            }
            return DiscreteSigmaPlan.predictOriginal(prediction, modelOutput, sample, sigma);
        }
    }
}
