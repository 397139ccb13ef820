package io.jdiffusion.samplers.lcm;

import io.jdiffusion.api.Alphas;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DynamicThresholding;
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
 * Latent Consistency Model multistep sampling (Luo et al. 2023), exactly as diffusers'
 * {@code LCMScheduler}: the timesteps are taken from the distillation schedule of
 * {@code original_inference_steps} (default 50) timesteps {@code k - 1, 2k - 1, ..., N - 1}
 * ({@code k = N // original_inference_steps}), largest first, at the indices
 * {@code floor(linspace(0, 50, steps, endpoint=False))}; each step predicts {@code x_0} (epsilon, v or
 * sample prediction; clipped or thresholded only if the config asks), applies the consistency
 * boundary condition {@code denoised = c_out x_0 + c_skip x} with
 * {@code c_skip = 0.25 / ((10 t)^2 + 0.25)} and {@code c_out = 10 t / sqrt((10 t)^2 + 0.25)}
 * ({@code timestep_scaling} 10, sigma_data 0.5), and then, except after the last step, noises the
 * denoised sample afresh to the next timestep with one {@code randn(latents)} draw:
 * {@code sqrt(ᾱ_next) denoised + sqrt(1 - ᾱ_next) z}. The last step returns the denoised sample.
 *
 * <p>Usual step counts are 4 to 8 (at most {@code original_inference_steps}). diffusers'
 * {@code LCMScheduler} ignores {@code timestep_spacing} and {@code steps_offset}, and so does this.
 * Classifier-free guidance, if any, is the engine's business: LCM-distilled UNets usually run with
 * guidance 1 (LCM-LoRA with 1 to 2), and diffusers' LCM pipeline feeds distilled UNets that have a
 * {@code time_cond_proj_dim} a guidance embedding instead.
 *
 * <p><b>It expects an LCM-distilled UNet</b> (an LCM model, or a model with an LCM-LoRA applied). On
 * an ordinary model each step jumps to the model's one-shot estimate of the clean image, which is
 * the blurry average of all images that fit, and re-noises it; a handful of such steps gives a
 * blurred, washed-out picture, where a consistency-distilled model gives a sharp one. On a Gaussian
 * test world (data N(0.5, 0.8^2), SD 1.5's alphas) the exact consistency function gives the data's
 * variance at any step count, while the exact ordinary model keeps only 16%, 30% and 37% of it in
 * 2, 4 and 8 steps (0.3% in one step): the mean is right, the detail is gone. The toy world's UNet
 * (the exact posterior-mean denoiser of a small world of flat-coloured shapes) shows the same in
 * its own way: with a prompt that fixes the whole scene 4 LCM steps draw what 20 Euler steps draw,
 * but with "a circle" (colours left open) one step paints a muddy average of all colours, and 2 to
 * 4 steps settle on one scene only because that world has so few.
 *
 * <p>Works in alpha terms: sigmas are {@code null}, the model input is not scaled,
 * {@code init_noise_sigma} is 1. Config keys read: betas, {@code num_train_timesteps},
 * {@code original_inference_steps}, {@code timestep_scaling}, {@code set_alpha_to_one} (default true),
 * {@code prediction_type}, {@code clip_sample} (default false), {@code clip_sample_range},
 * {@code thresholding}, {@code dynamic_thresholding_ratio}, {@code sample_max_value},
 * {@code rescale_betas_zero_snr}.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=lcm", Plugin.LABEL + "=LCM"})
public class LcmSampler implements Sampler {
    /** The consistency model's sigma_data. */
    static final float SIGMA_DATA = 0.5f;

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        return new SamplerPlan(timesteps(config, steps), null, 1.0, 1, config, s);
    }

    /** diffusers' {@code set_timesteps(num_inference_steps)} (strength 1, no custom timesteps). */
    static double[] timesteps(SchedulerConfig config, int steps) {
        int numTrain = config.numTrainTimesteps();
        int originalSteps = config.getInt("original_inference_steps", 50);
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        if (originalSteps < 1 || originalSteps > numTrain) {
            throw new IllegalArgumentException("scheduler_config.json: original_inference_steps (" + originalSteps
                    + ") must be in 1.." + numTrain + " (num_train_timesteps)");
        }
        if (steps > numTrain) {
            throw new IllegalArgumentException("steps (" + steps + ") cannot be larger than num_train_timesteps ("
                    + numTrain + ")");
        }
        if (steps > originalSteps) {
            throw new IllegalArgumentException("LCM takes at most original_inference_steps (" + originalSteps
                    + ") steps, not " + steps);
        }
        // the skipping step k of the paper, and the distillation schedule (i + 1) * k - 1, largest first
        int k = numTrain / originalSteps;
        int[] origin = new int[originalSteps];
        for (int i = 0; i < originalSteps; i++) {
            origin[i] = (originalSteps - i) * k - 1;
        }
        // np.floor(np.linspace(0, len(origin), num=steps, endpoint=False)).astype(np.int64)
        double step = (double) originalSteps / steps;
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = origin[(int) Math.floor(i * step)];
        }
        return out;
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        SchedulerConfig config = plan.config();
        float[] alphasCumprod = config.alphasCumprod();
        float finalAlphaCumprod = config.getBoolean("set_alpha_to_one", true) ? 1f : alphasCumprod[0];
        float timestepScaling = (float) config.getDouble("timestep_scaling", 10.0);
        PredictionType prediction = config.predictionType();
        int rows = DynamicThresholding.rows(model, latents.length);
        Progress p = progress == null ? Progress.NONE : progress;

        float[] x = latents.clone();
        int n = x.length;
        float[] x0 = new float[n];
        for (int i = startStep; i < steps; i++) {
            int t = (int) timesteps[i];
            float[] out = model.predict(x, t); // scale_model_input is the identity
            if (out.length != n) {
                throw new IllegalStateException("model returned " + out.length + " values for " + n + " latents");
            }
            // 1., 2. the next timestep (the same one after the last) and its alphas
            int prevT = i + 1 < steps ? (int) timesteps[i + 1] : t;
            float alphaProdT = alphasCumprod[t];
            float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
            float betaProdTPrev = 1f - alphaProdTPrev;
            // 3. boundary condition scalings
            float[] c = boundaryScalings(t, timestepScaling);
            float cSkip = c[0];
            float cOut = c[1];
            // 4., 5. predicted x_0, clipped or thresholded
            Alphas.predictOriginal(prediction, x, out, alphaProdT, x0);
            Alphas.clipOrThreshold(x0, rows, config, false);
            // 6. denoised
            float[] next = new float[n];
            for (int j = 0; j < n; j++) {
                next[j] = cOut * x0[j] + cSkip * x[j];
            }
            // 7. noise to the next timestep, except after the last step
            if (i != steps - 1) {
                float[] z = noise.randn(n);
                if (z.length != n) {
                    throw new IllegalStateException("noise source gave " + z.length + " values for " + n);
                }
                float sqrtAlphaPrev = (float) Math.sqrt(alphaProdTPrev);
                float sqrtBetaPrev = (float) Math.sqrt(betaProdTPrev);
                for (int j = 0; j < n; j++) {
                    next[j] = sqrtAlphaPrev * next[j] + sqrtBetaPrev * z[j];
                }
            }
            x = next;
            p.step(i + 1, steps);
        }
        return x;
    }

    /**
     * diffusers' {@code get_scalings_for_boundary_condition_discrete} on a timestep tensor, float32:
     * {@code {c_skip, c_out}} with {@code c_skip = sigma_data^2 / ((s t)^2 + sigma_data^2)} and
     * {@code c_out = s t / sqrt((s t)^2 + sigma_data^2)}.
     */
    static float[] boundaryScalings(int timestep, float timestepScaling) {
        float scaled = (float) timestep * timestepScaling;
        float denom = scaled * scaled + SIGMA_DATA * SIGMA_DATA;
        float cSkip = SIGMA_DATA * SIGMA_DATA / denom;
        float cOut = scaled / (float) Math.sqrt(denom);
        return new float[] {cSkip, cOut};
    }

    /** diffusers' {@code add_noise}: {@code sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) noise} at the start step's timestep. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        int t = (int) plan.timesteps()[startStep];
        return Alphas.addNoise(original, noise, plan.config().alphasCumprod()[t]);
    }
}
