package io.jdiffusion.api;

/**
 * The model as a sampler sees it: the engine runs the UNet (with classifier-free guidance
 * already applied) and returns its raw prediction. Samplers do their own input scaling and
 * eps/v conversion, exactly as their diffusers counterparts do, so numbers match.
 */
public interface Denoiser {
    /**
     * Model output for one image.
     *
     * @param modelInput latents already scaled for the model ({@code scale_model_input}),
     *                   shape {@link #latentShape()}
     * @param timestep   the timestep the UNet receives (may be fractional)
     * @return epsilon, v or sample, as {@link SchedulerConfig#predictionType()} says; same shape
     */
    float[] predict(float[] modelInput, double timestep);

    /** Shape of one image's latents: {@code [1, channels, height/8, width/8]}. */
    int[] latentShape();
}
