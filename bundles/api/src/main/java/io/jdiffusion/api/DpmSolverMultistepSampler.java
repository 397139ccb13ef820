package io.jdiffusion.api;

import java.util.List;

/**
 * A sampler on diffusers' {@code DPMSolverMultistepScheduler}: planning, the loop and
 * {@code add_noise} come from {@link DpmSolverMultistep}; a subclass only names its algorithm
 * (DPM++ 2M, DPM++ 2M SDE) and its help text. The solver order is the {@code solver_order}
 * parameter (default 2), not the config's, since these samplers are "2M" by name.
 */
public abstract class DpmSolverMultistepSampler implements Sampler {
    public static final String SOLVER_ORDER = "solver_order";

    private final DpmSolverMultistep.Algorithm algorithm;
    private final List<ParameterSpec> parameters;

    protected DpmSolverMultistepSampler(DpmSolverMultistep.Algorithm algorithm, String solverOrderHelp) {
        this.algorithm = algorithm;
        this.parameters = List.of(new ParameterSpec(SOLVER_ORDER, 2, 1, 3, solverOrderHelp));
    }

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return parameters;
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

    /** The solver for one run of {@code plan} over {@code rows} images. */
    public DpmSolverMultistep solver(SamplerPlan plan, int rows) {
        SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
        int order = (int) settings.param(SOLVER_ORDER, 2);
        return new DpmSolverMultistep(plan, algorithm, order, rows);
    }

    /** diffusers' {@code add_noise}: {@code alpha_t * x0 + sigma_t * noise} at the start step's sigma. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DpmSolverMultistep.addNoise(original, noise, plan, startStep);
    }
}
