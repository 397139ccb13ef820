package io.jdiffusion.api;

/**
 * A way to space sigmas between a model's smallest and largest (k-diffusion's "schedule":
 * Karras, exponential, ...), separate from the sampling algorithm. Register as a service with
 * {@link Plugin#NAME}.
 */
public interface NoiseSchedule {
    /** {@code steps} sigmas from {@code sigmaMax} down to {@code sigmaMin}, without the final zero. */
    double[] sigmas(int steps, double sigmaMin, double sigmaMax);
}
