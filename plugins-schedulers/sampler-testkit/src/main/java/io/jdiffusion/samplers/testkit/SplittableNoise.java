package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.NoiseSource;
import java.util.SplittableRandom;

/**
 * Standard normal draws by {@link Gaussians#gaussian(SplittableRandom)} from a seeded
 * {@link SplittableRandom}: a second, independent stream next to {@link JavaNoise}, used by the tests
 * whose expected statistics were recorded with it.
 */
public final class SplittableNoise implements NoiseSource {
    private final SplittableRandom random;
    private final long seed;

    public SplittableNoise(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public float[] randn(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) Gaussians.gaussian(random);
        }
        return out;
    }

    @Override
    public long seed() {
        return seed;
    }
}
