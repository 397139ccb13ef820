package io.jdiffusion.samplers.dpmpp_2s_a;

import io.jdiffusion.api.Denoiser;
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
 * DPM++ 2S a: k-diffusion's {@code sample_dpmpp_2s_ancestral} (Katherine Crowson), which diffusers
 * has no scheduler for. Each step takes the ancestral split of {@code sigma -> sigma_next} into
 * {@code sigma_down} and {@code sigma_up} ({@code get_ancestral_step} with {@code eta}), a
 * single-step DPM-Solver++(2S) from {@code sigma} to {@code sigma_down} through the midpoint
 * {@code s = t + h/2} in {@code t = -log sigma} (two model calls), then adds
 * {@code randn * s_noise * sigma_up}: one {@code randn(n)} from the {@link NoiseSource} per step whose
 * {@code sigma_next > 0}, after the model calls, as k-diffusion's {@code default_noise_sampler} draws
 * ({@code torch.randn_like(x)}). A step to {@code sigma_down = 0} (the last) is an Euler step.
 *
 * <p>The model is wrapped as k-diffusion's {@code CompVisDenoiser} / {@code CompVisVDenoiser}: the
 * input is {@code x / sqrt(sigma^2 + 1)}, the UNet timestep is k-diffusion's {@code sigma_to_t(sigma)}
 * (fractional, log-sigma interpolation over the training sigmas), and the denoised image is
 * {@code x - sigma * eps} ({@code epsilon}), {@code x / (sigma^2 + 1) - sigma / sqrt(sigma^2 + 1) * v}
 * ({@code v_prediction}) or the output itself ({@code sample}). Arithmetic is float32.
 *
 * <p>Default spacing: k-diffusion's {@code get_sigmas(n)} for discrete models, which is what
 * AUTOMATIC1111 uses: {@code t_to_sigma(linspace(N - 1, 0, n))} plus a final 0 (the config's
 * {@code timestep_spacing} does not apply: there is no diffusers scheduler to follow). A
 * {@link SamplerSettings#schedule()} (or the config's {@code use_karras_sigmas} /
 * {@code use_exponential_sigmas}) replaces it over the whole training sigma range, as A1111's
 * Karras/exponential schedules do. Start latents are unit noise times {@code sigmas[0]}; img2img
 * noise is {@code x0 + sigma * noise}.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpmpp_2s_a", Plugin.LABEL + "=DPM++ 2S a"})
public class DpmPp2sAncestralSampler implements Sampler {
    public static final String ETA = "eta";
    public static final String S_NOISE = "s_noise";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ETA, 1.0, 0.0, 1.0,
                    "Ancestral noise: 1 adds back as much noise as DDPM would, 0 is the deterministic DPM-Solver++(2S)"),
            new ParameterSpec(S_NOISE, 1.0, 0.0, 2.0,
                    "Scale of the noise added back each step"));

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
        float[] train = trainSigmas(config);
        float[] logSigmas = Sigmas.logFloat32(train);
        int numTrain = logSigmas.length;
        double[] sigmas;
        NoiseSchedule schedule = scheduleOf(config, s);
        if (schedule == null) {
            sigmas = Sigmas.kDiffusionSigmas(steps, logSigmas);
        } else {
            // A1111: get_sigmas_karras(n, sigma_min, sigma_max) over the model's whole sigma range
            double[] spaced = schedule.sigmas(steps, train[0], train[numTrain - 1]);
            if (spaced == null || spaced.length != steps) {
                throw new IllegalStateException("noise schedule gave " + (spaced == null ? "no" : spaced.length)
                        + " sigmas for " + steps + " steps");
            }
            sigmas = new double[steps + 1];
            for (int i = 0; i < steps; i++) {
                sigmas[i] = (float) spaced[i]; // torch.tensor(sigmas) in float32
            }
        }
        double[] timesteps = new double[steps];
        for (int i = 0; i < steps; i++) {
            timesteps[i] = Sigmas.kDiffusionSigmaToT((float) sigmas[i], logSigmas);
        }
        return new SamplerPlan(timesteps, sigmas, sigmas[0], 2, config, s);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] sigmas = plan.sigmas();
        int steps = plan.checkStartStep(startStep);
        SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
        float eta = (float) settings.param(ETA, 1.0);
        float sNoise = (float) settings.param(S_NOISE, 1.0);
        KDenoiser denoiser = new KDenoiser(model, plan.config(), logSigmas(plan.config()));
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        int n = x.length;
        for (int i = startStep; i < steps; i++) {
            float sigma = (float) sigmas[i];
            float sigmaNext = (float) sigmas[i + 1];
            float[] denoised = denoiser.denoise(x, sigma, (float) plan.timesteps()[i]);
            float[] ancestral = ancestralStep(sigma, sigmaNext, eta);
            float sigmaDown = ancestral[0];
            float sigmaUp = ancestral[1];
            if (sigmaDown == 0f) {
                // Euler method: d = (x - denoised) / sigma; x = x + d * (sigma_down - sigma)
                float dt = sigmaDown - sigma;
                for (int j = 0; j < n; j++) {
                    float d = (x[j] - denoised[j]) / sigma;
                    x[j] = x[j] + d * dt;
                }
            } else {
                // DPM-Solver++(2S) in t = -log(sigma), r = 1/2
                float t = tFn(sigma);
                float tNext = tFn(sigmaDown);
                float h = tNext - t;
                float s = t + 0.5f * h;
                float sigmaS = sigmaFn(s);
                float sigmaT = sigmaFn(t);
                float c1 = sigmaS / sigmaT;
                float c2 = (float) Math.expm1(-h * 0.5f);
                float[] x2 = new float[n];
                for (int j = 0; j < n; j++) {
                    x2[j] = c1 * x[j] - c2 * denoised[j];
                }
                float[] denoised2 = denoiser.denoise(x2, sigmaS, denoiser.timestep(sigmaS));
                float c3 = sigmaFn(tNext) / sigmaT;
                float c4 = (float) Math.expm1(-h);
                for (int j = 0; j < n; j++) {
                    x[j] = c3 * x[j] - c4 * denoised2[j];
                }
            }
            if (sigmaNext > 0f) {
                float[] z = noise.randn(n);
                for (int j = 0; j < n; j++) {
                    x[j] = x[j] + z[j] * sNoise * sigmaUp;
                }
            }
            p.step(i + 1, steps);
        }
        return x;
    }

    /**
     * k-diffusion's {@code get_ancestral_step(sigma_from, sigma_to, eta)} in float32:
     * {@code sigma_up = min(sigma_to, eta * sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2))},
     * {@code sigma_down = sqrt(sigma_to^2 - sigma_up^2)}; eta 0 gives {@code (sigma_to, 0)}.
     */
    static float[] ancestralStep(float sigmaFrom, float sigmaTo, float eta) {
        if (eta == 0f) {
            return new float[] {sigmaTo, 0f};
        }
        float sigmaUp = Math.min(sigmaTo, eta * (float) Math.sqrt(sigmaTo * sigmaTo
                * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom)));
        float sigmaDown = (float) Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        return new float[] {sigmaDown, sigmaUp};
    }

    /** {@code t_fn = -log(sigma)} in float32. */
    static float tFn(float sigma) {
        return -(float) Math.log(sigma);
    }

    /** {@code sigma_fn = exp(-t)} in float32. */
    static float sigmaFn(float t) {
        return (float) Math.exp(-t);
    }

    /** The training sigmas {@code sqrt((1 - ᾱ) / ᾱ)}, float32, ascending by timestep. */
    static float[] trainSigmas(SchedulerConfig config) {
        float[] ac = config.alphasCumprod();
        if (config.getBoolean("rescale_betas_zero_snr", false)) {
            ac = ac.clone();
            ac[ac.length - 1] = 0x1p-24f; // keep the largest sigma finite, as diffusers does
        }
        return Sigmas.fromAlphasCumprod(ac);
    }

    static float[] logSigmas(SchedulerConfig config) {
        return Sigmas.logFloat32(trainSigmas(config));
    }

    private static NoiseSchedule scheduleOf(SchedulerConfig config, SamplerSettings settings) {
        if (settings.schedule() != null) {
            return settings.schedule();
        }
        boolean karras = config.getBoolean("use_karras_sigmas", false);
        boolean exponential = config.getBoolean("use_exponential_sigmas", false);
        if (karras && exponential) {
            throw new IllegalArgumentException("scheduler_config.json: only one of use_karras_sigmas and "
                    + "use_exponential_sigmas can be set");
        }
        if (karras) {
            return (n, min, max) -> Sigmas.karras(n, min, max, 7.0);
        }
        if (exponential) {
            return Sigmas::exponential;
        }
        return null;
    }

    /** k-diffusion's {@code CompVisDenoiser} / {@code CompVisVDenoiser} around the UNet, in float32. */
    static final class KDenoiser {
        private final Denoiser model;
        private final PredictionType prediction;
        private final float[] logSigmas;

        KDenoiser(Denoiser model, SchedulerConfig config, float[] logSigmas) {
            this.model = model;
            this.prediction = config.predictionType();
            this.logSigmas = logSigmas;
        }

        float timestep(float sigma) {
            return Sigmas.kDiffusionSigmaToT(sigma, logSigmas);
        }

        /** The denoised image at {@code sigma}, the UNet called at {@code timestep} on {@code x * c_in}. */
        float[] denoise(float[] x, float sigma, float timestep) {
            int n = x.length;
            float c = sigma * sigma + 1f;
            float cIn = 1f / (float) Math.sqrt(c);
            float[] in = new float[n];
            for (int j = 0; j < n; j++) {
                in[j] = x[j] * cIn;
            }
            float[] out = model.predict(in, timestep);
            if (out.length != n) {
                throw new IllegalStateException("model returned " + out.length + " values for " + n + " latents");
            }
            float[] d = new float[n];
            switch (prediction) {
                case EPSILON: {
                    float cOut = -sigma;
                    for (int j = 0; j < n; j++) {
                        d[j] = x[j] + out[j] * cOut;
                    }
                    break;
                }
                case V_PREDICTION: {
                    float cSkip = 1f / c;
                    float cOut = -sigma / (float) Math.sqrt(c);
                    for (int j = 0; j < n; j++) {
                        d[j] = out[j] * cOut + x[j] * cSkip;
                    }
                    break;
                }
                case SAMPLE:
                    System.arraycopy(out, 0, d, 0, n);
                    break;
                default:
                    throw new IllegalStateException("unknown prediction type " + prediction);
            }
            return d;
        }
    }
}
