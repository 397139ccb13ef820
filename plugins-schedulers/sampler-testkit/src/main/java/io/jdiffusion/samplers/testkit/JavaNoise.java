package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.NoiseSource;
import java.util.Random;

/**
 * Standard normal draws from a seeded {@link java.util.Random}, for statistical checks that need
 * real noise but not torch's generator (which the engine owns).
 */
public final class JavaNoise implements NoiseSource {
    private final Random random;
    private final long seed;

    public JavaNoise(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    @Override
    public float[] randn(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    @Override
    public long seed() {
        return seed;
    }
}
