package io.jdiffusion.samplers.testkit;

import java.util.Random;
import java.util.SplittableRandom;

/** Standard normal draws and sample moments for the samplers' statistical checks. */
public final class Gaussians {
    private Gaussians() {
    }

    /** {@code n} standard normal draws from {@code new java.util.Random(seed)}, as float32. */
    public static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** One standard normal draw by Box-Muller (cosine branch) from a {@link SplittableRandom}. */
    public static double gaussian(SplittableRandom r) {
        double u1 = 1 - r.nextDouble(); // in (0, 1], so log(u1) is finite
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** The sample mean, accumulated in double. */
    public static double mean(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        return sum / x.length;
    }

    /** The unbiased sample variance about {@code mean} (divides by n - 1). */
    public static double variance(float[] x, double mean) {
        double sum = 0;
        for (float v : x) {
            sum += (v - mean) * (v - mean);
        }
        return sum / (x.length - 1);
    }
}
