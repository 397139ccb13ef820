package io.jdiffusion.samplers.dpmpp_2m_sde;

import io.jdiffusion.api.DpmSolverMultistep;
import io.jdiffusion.api.DpmSolverMultistepSampler;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Sampler;
import org.osgi.service.component.annotations.Component;

/**
 * DPM++ 2M SDE: diffusers' {@code DPMSolverMultistepScheduler} with
 * {@code algorithm_type="sde-dpmsolver++"} and {@code solver_order=2}, on the solver shared with
 * DPM++ 2M ({@link DpmSolverMultistep}). Planning is the same as DPM++ 2M's; each step draws one
 * {@code randn_tensor(model_output.shape, generator)} from the {@code NoiseSource} before updating
 * (also on first-order steps, as diffusers does), so a seed gives diffusers' result with a CPU
 * generator that drew the start latents first.
 *
 * <p>Config keys read: as DPM++ 2M ({@code prediction_type}, {@code timestep_spacing},
 * {@code steps_offset}, {@code lambda_min_clipped}, {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code use_lu_lambdas}, {@code final_sigmas_type},
 * {@code lower_order_final}, {@code euler_at_final}, {@code solver_type}, {@code thresholding},
 * {@code rescale_betas_zero_snr}).
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpmpp_2m_sde", Plugin.LABEL + "=DPM++ 2M SDE"})
public class DpmPp2mSdeSampler extends DpmSolverMultistepSampler {
    public DpmPp2mSdeSampler() {
        super(DpmSolverMultistep.Algorithm.SDE_DPMSOLVER_PLUS_PLUS,
                "Multistep order: 2 is DPM++ 2M SDE; 1 is the first-order SDE-DPM-Solver++");
    }
}
