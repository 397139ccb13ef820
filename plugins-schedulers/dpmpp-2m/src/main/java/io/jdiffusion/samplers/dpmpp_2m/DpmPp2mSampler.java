package io.jdiffusion.samplers.dpmpp_2m;

import io.jdiffusion.api.DpmSolverMultistep;
import io.jdiffusion.api.DpmSolverMultistepSampler;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Sampler;
import org.osgi.service.component.annotations.Component;

/**
 * DPM++ 2M: diffusers' {@code DPMSolverMultistepScheduler} with {@code algorithm_type="dpmsolver++"}
 * and {@code solver_order=2} (the solver itself is {@link DpmSolverMultistep}, shared with DPM++ 2M
 * SDE). Same integer timesteps and float32 sigmas as {@code set_timesteps} (default spacing
 * {@code linspace}), {@code init_noise_sigma} 1, no input scaling, first-order warm-up and
 * {@code lower_order_final}, and the alpha/sigma form of {@code add_noise}.
 *
 * <p>Config keys read: betas, {@code prediction_type} (epsilon, v_prediction, sample),
 * {@code timestep_spacing}, {@code steps_offset}, {@code lambda_min_clipped}, {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code use_lu_lambdas}, {@code final_sigmas_type},
 * {@code lower_order_final}, {@code euler_at_final}, {@code solver_type} (midpoint, heun),
 * {@code thresholding} and its keys, {@code rescale_betas_zero_snr}. The solver order is the
 * {@code solver_order} parameter (default 2), not the config's, since the sampler is "2M" by name.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpmpp_2m", Plugin.LABEL + "=DPM++ 2M"})
public class DpmPp2mSampler extends DpmSolverMultistepSampler {
    public DpmPp2mSampler() {
        super(DpmSolverMultistep.Algorithm.DPMSOLVER_PLUS_PLUS,
                "Multistep order: 2 is DPM++ 2M; 1 is DDIM-like, 3 uses one more past step");
    }
}
