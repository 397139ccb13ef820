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

    /**
     * Checks a sampler's {@code startStep} against this plan: 0 runs every step, {@link #steps()} runs
     * none (img2img at strength 0). The samplers all take the same range and say so in the same words.
     *
     * @return {@link #steps()}
     * @throws IllegalArgumentException when {@code startStep} is outside {@code 0..steps()}
     */
    public int checkStartStep(int startStep) {
        int steps = steps();
        if (startStep < 0 || startStep > steps) {
            throw new IllegalArgumentException("startStep must be in 0.." + steps + ", not " + startStep);
        }
        return steps;
    }
}
