package io.jdiffusion.schedules;

import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Sigmas;
import org.osgi.service.component.annotations.Component;

/**
 * Sigmas evenly spaced in {@code log sigma} from {@code sigmaMax} down to {@code sigmaMin}: each
 * step divides sigma by the same factor {@code (sigmaMax / sigmaMin)^(1 / (steps - 1))}.
 *
 * <p>It follows diffusers' {@code _convert_to_exponential} ({@code use_exponential_sigmas}):
 * {@code np.exp(np.linspace(log(sigma_max), log(sigma_min), n))} in float64, by
 * {@link Sigmas#exponential}. k-diffusion's {@code get_sigmas_exponential} (AUTOMATIC1111) takes the
 * same {@code linspace} in float32 ({@code torch.linspace}) before {@code exp} and appends a final
 * zero; its values differ from these by float32 rounding (about 1e-7 relative, more for the
 * log-domain rounding of large sigmas). The final zero is not part of a schedule here: the sampler
 * appends its own final sigma.
 */
@Component(service = NoiseSchedule.class, property = {Plugin.NAME + "=exponential", Plugin.LABEL + "=Exponential"})
public class ExponentialSchedule implements NoiseSchedule {
    @Override
    public double[] sigmas(int steps, double sigmaMin, double sigmaMax) {
        Schedules.check(steps, sigmaMin, sigmaMax, true);
        return Sigmas.exponential(steps, sigmaMin, sigmaMax);
    }

    @Override
    public String toString() {
        return "exponential";
    }
}
