package io.jdiffusion.engine;

import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.noise.NvPhiloxGenerator;
import io.jdiffusion.api.noise.TorchCpuGenerator;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.Locale;

/**
 * The request's {@code noise_source}: {@code cpu} (default: PyTorch's CPU generator, as diffusers
 * with a CPU generator and A1111's "CPU" RNG) or {@code nv} (A1111's "NV": NVIDIA's Philox, so
 * seeds made on A1111 with a GPU reproduce).
 */
public final class NoiseSources {
    private NoiseSources() {
    }

    public static String parse(Object value) {
        if (value == null || value.toString().isBlank()) {
            return "cpu";
        }
        String v = value.toString().trim().toLowerCase(Locale.ROOT);
        if (v.equals("cpu") || v.equals("nv")) {
            return v;
        }
        throw new InvalidRequestException("noise_source", "must be cpu or nv, got '" + value + "'");
    }

    public static NoiseSource create(String source, long seed) {
        return "nv".equals(source) ? new NvPhiloxGenerator(seed) : new TorchCpuGenerator(seed);
    }
}
