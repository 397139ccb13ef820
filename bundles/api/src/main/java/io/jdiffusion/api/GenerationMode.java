package io.jdiffusion.api;

import java.util.List;
import java.util.Map;

/**
 * A way of starting the denoising loop (txt2img, img2img, depth2img, ...): it prepares the start
 * latents and the first step. Register as a service with {@link Plugin#NAME} and {@link Plugin#LABEL}.
 */
public interface GenerationMode {
    /** Start latents in the sampler's convention and the step to start from. */
    ModeStart start(ModeContext context);

    /** Parameters this mode reads from {@link ModeContext#inputs()}, for the API and UI. */
    default List<ParameterSpec> parameters() {
        return List.of();
    }

    /** What a mode is given for one image. */
    interface ModeContext {
        Sampler sampler();

        SamplerPlan plan();

        /** {@code [1, channels, height/8, width/8]} of the UNet's sample input (without extra mode channels). */
        int[] latentShape();

        NoiseSource noise();

        /** The request's mode inputs by name (images as decoded data, numbers, strings). */
        Map<String, Object> inputs();
    }

    /** Where the loop starts. */
    record ModeStart(float[] latents, int startStep) {
    }
}
