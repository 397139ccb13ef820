package io.jdiffusion.api;

/**
 * The noise levels a sampler will visit for one run (diffusers' {@code set_timesteps}).
 *
 * @param timesteps      the UNet timestep of each step, in order (length = steps)
 * @param sigmas         k-diffusion sigmas of each step plus the final one (length steps + 1),
 *                       or {@code null} for samplers that work in alpha terms only (DDIM, PNDM)
 * @param initNoiseSigma what unit noise is multiplied by to start txt2img
 * @param order          model calls per step (1, or 2 for Heun-like samplers), as diffusers'
 *                       {@code scheduler.order}; img2img uses it to skip steps by strength
 * @param config         the scheduler config the plan was made from
 * @param settings       the settings it was made with
 */
public record SamplerPlan(double[] timesteps, double[] sigmas, double initNoiseSigma, int order,
                          SchedulerConfig config, SamplerSettings settings) {
    public int steps() {
        return timesteps.length;
    }
}
