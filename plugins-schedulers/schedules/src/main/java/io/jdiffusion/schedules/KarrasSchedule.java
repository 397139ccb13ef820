package io.jdiffusion.schedules;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Sigmas;
import org.osgi.service.component.annotations.Component;

/**
 * The noise schedule of Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based
 * Generative Models"), eq. 5 with rho = 7: sigmas evenly spaced in {@code sigma^(1/rho)} from
 * {@code sigmaMax} down to {@code sigmaMin}.
 *
 * <p>It follows diffusers' {@code _convert_to_karras} ({@code use_karras_sigmas}): the ramp is
 * {@code np.linspace(0, 1, n)} and the arithmetic float64, by {@link Sigmas#karras}. k-diffusion's
 * {@code get_sigmas_karras} (AUTOMATIC1111) is the same formula on a float32 {@code torch.linspace}
 * ramp with a final zero appended; its values differ from these by float32 rounding (about 1e-7
 * relative). The final zero is not part of a schedule here: the sampler appends its own final sigma.
 */
@Component(service = NoiseSchedule.class, property = {Plugin.NAME + "=karras", Plugin.LABEL + "=Karras"})
public class KarrasSchedule implements NoiseSchedule {
    /** The paper's rho, which diffusers and k-diffusion both use. */
    public static final double RHO = 7.0;

    @Override
    public double[] sigmas(int steps, double sigmaMin, double sigmaMax) {
        Schedules.check(steps, sigmaMin, sigmaMax, false);
        return Sigmas.karras(steps, sigmaMin, sigmaMax, RHO);
    }

    @Override
    public String toString() {
        return "karras";
    }
}
