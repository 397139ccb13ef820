package io.jdiffusion.samplers.dpmpp_2m_sde;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DpmSolverMultistep;
import io.jdiffusion.api.DynamicThresholding;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * DPM++ 2M SDE: diffusers' {@code DPMSolverMultistepScheduler} with
 * {@code algorithm_type="sde-dpmsolver++"} and {@code solver_order=2}, on the solver shared with
 * DPM++ 2M ({@link DpmSolverMultistep}). Planning is the same as DPM++ 2M's; each step draws one
 * {@code randn_tensor(model_output.shape, generator)} from the {@link NoiseSource} before updating
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
public class DpmPp2mSdeSampler implements Sampler {
    public static final String SOLVER_ORDER = "solver_order";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(SOLVER_ORDER, 2, 1, 3,
                    "Multistep order: 2 is DPM++ 2M SDE; 1 is the first-order SDE-DPM-Solver++"));

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        return DpmSolverMultistep.plan(config, steps, settings, DpmSolverMultistep.PlanStyle.DPM_SOLVER);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        plan.checkStartStep(startStep);
        return solver(plan, DynamicThresholding.rows(model, latents.length))
                .sample(model, latents, plan, startStep, noise, progress);
    }

    static DpmSolverMultistep solver(SamplerPlan plan, int rows) {
        SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
        int order = (int) settings.param(SOLVER_ORDER, 2);
        return new DpmSolverMultistep(plan, DpmSolverMultistep.Algorithm.SDE_DPMSOLVER_PLUS_PLUS, order, rows);
    }

    /** diffusers' {@code add_noise}: {@code alpha_t * x0 + sigma_t * noise} at the start step's sigma. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DpmSolverMultistep.addNoise(original, noise, plan, startStep);
    }
}
