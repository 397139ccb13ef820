package io.jdiffusion.modes.inpaint;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;

/**
 * Keeps the unmasked area on the original image's path, for any sampler: after each model call,
 * the clean-image prediction x0 outside the mask is replaced by the original latents and the
 * model output is rewritten to match (AUTOMATIC1111 blends its denoised output the same way).
 *
 * <p>Why here and not by re-noising the sampler's latents after each step (diffusers' 4-channel
 * inpaint loop): the loop belongs to the sampler plugin, and this needs no change to the Sampler
 * SPI. It is the same thing: with x0 fixed to the original, a deterministic step (Euler, DDIM)
 * moves {@code x = x0 + sigma_i n} to {@code x0 + sigma_(i+1) n}, i.e. the original re-noised to
 * the next step's level with the start noise; the last step lands on the original exactly.
 *
 * <p>The model input is the variance-preserving {@code x_t = sqrt(abar) x0 + sqrt(1 - abar) eps}
 * for every sampler (their {@code scale_model_input} does that), so x0 follows from the timestep
 * alone; {@code abar} at a fractional timestep comes from the training sigmas interpolated
 * linearly, as the k-diffusion-style samplers compute them.
 */
final class LatentBlend implements Denoiser {
    private final Denoiser inner;
    private final float[] original;
    private final float[] keep;
    private final float[] trainSigmas;
    private final PredictionType prediction;

    /**
     * @param original the init image's latents (sampler space), one image
     * @param latentMask 1 = repaint, 0 = keep, {@code [h, w]}; applied to every channel
     */
    LatentBlend(Denoiser inner, float[] original, float[] latentMask, SchedulerConfig config) {
        this.inner = inner;
        this.original = original;
        int plane = latentMask.length;
        this.keep = new float[original.length];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = 1f - latentMask[i % plane];
        }
        this.trainSigmas = Sigmas.fromAlphasCumprod(config.alphasCumprod());
        this.prediction = config.predictionType();
    }

    @Override
    public float[] predict(float[] x, double timestep) {
        float[] out = inner.predict(x, timestep);
        if (!(timestep >= 0 && timestep <= trainSigmas.length - 1)) {
            return out; // not a discrete training timestep (continuous v-prediction): leave it to the paste-back
        }
        double sigma = Sigmas.interpIndex(timestep, trainSigmas);
        double a = 1 / Math.sqrt(sigma * sigma + 1); // sqrt(abar)
        double s = sigma * a;                         // sqrt(1 - abar)
        float[] blended = out.clone();
        for (int j = 0; j < out.length; j++) {
            float k = keep[j];
            if (k == 0f) {
                continue;
            }
            double x0 = switch (prediction) {
                case EPSILON -> (x[j] - s * out[j]) / a;
                case V_PREDICTION -> a * x[j] - s * out[j];
                case SAMPLE -> out[j];
            };
            double x0b = (1 - k) * x0 + k * original[j];
            blended[j] = (float) switch (prediction) {
                case EPSILON -> (x[j] - a * x0b) / s;
                case V_PREDICTION -> (a * x[j] - x0b) / s;
                case SAMPLE -> x0b;
            };
        }
        return blended;
    }

    @Override
    public int[] latentShape() {
        return inner.latentShape();
    }
}
