package io.jdiffusion.api;

/**
 * A sampler: plans its noise levels and runs the denoising loop, top to bottom.
 * Register one as an OSGi service with {@link Plugin#NAME} and {@link Plugin#LABEL}.
 */
public interface Sampler {
    /** Timesteps and sigmas for {@code steps} steps under {@code config}, as diffusers' {@code set_timesteps}. */
    SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings);

    /**
     * Runs the loop from step {@code startStep} (0 for txt2img) to the end.
     *
     * @param latents start latents in this sampler's convention (txt2img: unit noise times
     *                {@link SamplerPlan#initNoiseSigma()}); not modified
     * @return the final, denoised latents, ready for the VAE decoder (before its scaling factor)
     */
    float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                   Progress progress);

    /**
     * Noises clean latents to the level of step {@code startStep} (diffusers' {@code add_noise}),
     * for image-to-image. The default is the sigma form {@code x0 + sigma * noise}; samplers that
     * work in alpha terms override it.
     */
    default float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        if (plan.sigmas() == null) {
            throw new UnsupportedOperationException(getClass().getName() + " must override addNoise");
        }
        double sigma = plan.sigmas()[startStep];
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (original[i] + noise[i] * sigma);
        }
        return out;
    }

    /**
     * Whether {@link SamplerSettings#schedule()} can replace this sampler's own sigma spacing (as
     * diffusers' {@code use_karras_sigmas} does). Samplers that work on fixed timesteps (DDIM, PNDM)
     * keep the default, false, and the engine refuses a schedule for them with a clear error.
     */
    default boolean acceptsSchedule() {
        return false;
    }

    /** Parameters this sampler reads from {@link SamplerSettings#params()}, for the API and UI. */
    default java.util.List<ParameterSpec> parameters() {
        return java.util.List.of();
    }
}
