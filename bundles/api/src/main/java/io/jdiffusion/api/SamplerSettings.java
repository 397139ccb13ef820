package io.jdiffusion.api;

import java.util.Map;

/**
 * What a request asks of a sampler beyond the step count.
 *
 * @param schedule noise schedule to space the sigmas with, or {@code null} for the sampler's
 *                 own default spacing (diffusers' {@code timestep_spacing})
 * @param params   sampler parameters by name (e.g. {@code eta}); values are validated by the engine
 */
public record SamplerSettings(NoiseSchedule schedule, Map<String, Object> params) {
    public static final SamplerSettings DEFAULT = new SamplerSettings(null, Map.of());

    public SamplerSettings {
        params = params == null ? Map.of() : Map.copyOf(params);
    }

    public double param(String name, double fallback) {
        Object v = params.get(name);
        return v instanceof Number n ? n.doubleValue() : fallback;
    }
}
