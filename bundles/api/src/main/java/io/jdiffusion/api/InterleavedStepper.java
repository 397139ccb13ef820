package io.jdiffusion.api;

/**
 * The per-call state of a second-order k-diffusion port (diffusers' {@code HeunDiscreteScheduler},
 * {@code KDPM2DiscreteScheduler}, {@code KDPM2AncestralDiscreteScheduler}): the plan's user-visible steps
 * interleaved into {@code 2 * steps - 1} model calls, user step {@code i} being calls {@code 2i} and
 * {@code 2i + 1} (the last step has only the first). The samplers differ in their steppers; the loop
 * that drives them, as the diffusers pipeline does, is {@link #sample} for all of them.
 */
public interface InterleavedStepper {
    /** Model calls of a full run: {@code 2 * steps - 1}. */
    int calls();

    /** The timestep the model is called at on call {@code k}. */
    double timestep(int k);

    /** diffusers' {@code scale_model_input} for call {@code k}: {@code sample} scaled into {@code out}. */
    void scaleModelInput(float[] sample, int k, float[] out);

    /**
     * diffusers' {@code step} for call {@code k}: {@code sample} becomes {@code prev_sample}. {@code noise}
     * is for ancestral steppers; the others do not draw from it (it may be null for them).
     */
    void step(float[] modelOutput, int k, float[] sample, NoiseSource noise);

    /**
     * The pipeline loop from user step {@code startStep} (call {@code 2 * startStep}) to the end, reporting
     * progress once per user step. {@code latents} is not changed.
     *
     * @throws IllegalArgumentException when {@code startStep} is outside {@code 0..plan.steps()}
     */
    static float[] sample(InterleavedStepper stepper, Denoiser model, float[] latents, SamplerPlan plan,
                          int startStep, NoiseSource noise, Progress progress) {
        int steps = plan.checkStartStep(startStep);
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        float[] scaled = new float[x.length];
        int calls = stepper.calls();
        for (int k = 2 * startStep; k < calls; k++) {
            stepper.scaleModelInput(x, k, scaled);
            float[] out = model.predict(scaled, stepper.timestep(k));
            stepper.step(out, k, x, noise);
            if (k % 2 == 1 || k == calls - 1) {
                p.step(k == calls - 1 ? steps : (k + 1) / 2, steps);
            }
        }
        return x;
    }
}
