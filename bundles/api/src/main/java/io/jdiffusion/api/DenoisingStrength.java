package io.jdiffusion.api;

/**
 * Which step an image-to-image denoising strength starts from (since 1.1), as diffusers'
 * {@code get_timesteps}: {@code init_timestep = min(int(steps * strength), steps)},
 * {@code t_start = max(steps - init_timestep, 0)}. Strength 1 runs every step, strength 0 none.
 * Shared by the modes that start from an image (img2img, inpaint, depth2img).
 */
public final class DenoisingStrength {
    private DenoisingStrength() {
    }

    /**
     * The first step of the loop, an index into the plan's steps. Plans hold one timestep per
     * step whatever the sampler's order, so diffusers' {@code t_start * order} is {@code t_start} here.
     *
     * @throws IllegalArgumentException for a strength outside 0..1
     */
    public static int startStep(int steps, double strength) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be from 0 to 1, got " + strength);
        }
        int initTimestep = Math.min((int) (steps * strength), steps); // Python's int(): truncation, in double
        return Math.max(steps - initTimestep, 0);
    }
}
