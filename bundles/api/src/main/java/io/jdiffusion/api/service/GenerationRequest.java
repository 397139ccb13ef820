package io.jdiffusion.api.service;

import java.util.Map;

/**
 * One generation as a script or the UI asks for it. Null fields take defaults; the engine
 * validates everything and names the field in its error.
 *
 * @param seed unsigned 64-bit seed as a decimal string or number; null, or -1, means random
 */
public record GenerationRequest(String mode, String prompt, String negativePrompt, String sampler,
                                String schedule, Integer steps, Double cfgScale, String seed,
                                Integer width, Integer height, Integer batchSize, String model,
                                Map<String, Object> params) {
    public GenerationRequest {
        params = params == null ? Map.of() : Map.copyOf(params);
    }

    public static GenerationRequest prompt(String prompt) {
        return new GenerationRequest(null, prompt, null, null, null, null, null, null, null, null, null, null, null);
    }
}
