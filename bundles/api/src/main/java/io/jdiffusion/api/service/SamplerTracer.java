package io.jdiffusion.api.service;

import java.util.Map;

/**
 * Conformance tracing: runs a sampler exactly as the txt2img loop does, on SD 1.5's scheduler
 * config, with diffusers' test model ({@code sample * t / (t + 1)}) and start sample
 * ({@code dummy_sample_deter * init_noise_sigma}) instead of a UNet, so its numbers can be
 * compared with diffusers' own.
 */
public interface SamplerTracer {
    /**
     * @param schedule   null or "default" for the sampler's own spacing, else a schedule name
     * @param prediction "epsilon" or "v_prediction"
     * @return the report; its last line is {@code sum=<sum |x|> mean=<mean |x|>} of the final latents
     */
    String trace(String sampler, String schedule, String prediction, int steps, long seed, Map<String, Object> params);
}
