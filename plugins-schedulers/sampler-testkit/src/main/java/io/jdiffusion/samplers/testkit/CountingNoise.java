package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.NoiseSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A noise source that records the size of each draw and returns a constant, so a test can check
 * how often (and how much) a sampler draws without depending on random numbers. Not final: tests
 * subclass it to look at the state at each draw.
 */
public class CountingNoise implements NoiseSource {
    /** The size of every draw so far, in order. */
    public final List<Integer> draws = new ArrayList<>();
    /** What every drawn element is. */
    public final float value;

    public CountingNoise(float value) {
        this.value = value;
    }

    @Override
    public float[] randn(int n) {
        draws.add(n);
        float[] out = new float[n];
        Arrays.fill(out, value);
        return out;
    }

    @Override
    public long seed() {
        return 0;
    }
}
