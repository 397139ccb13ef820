package io.jdiffusion.schedules;

/** Argument checks the schedules share. */
final class Schedules {
    private Schedules() {
    }

    static void check(int steps, double sigmaMin, double sigmaMax, boolean positiveMin) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, not " + steps);
        }
        if (!Double.isFinite(sigmaMin) || !Double.isFinite(sigmaMax)) {
            throw new IllegalArgumentException("sigma_min and sigma_max must be finite, not " + sigmaMin + " and "
                    + sigmaMax);
        }
        if (positiveMin ? sigmaMin <= 0 : sigmaMin < 0) {
            throw new IllegalArgumentException("sigma_min must be " + (positiveMin ? "positive" : "non-negative")
                    + ", not " + sigmaMin);
        }
        if (sigmaMax < sigmaMin) {
            throw new IllegalArgumentException("sigma_max (" + sigmaMax + ") must not be below sigma_min ("
                    + sigmaMin + ")");
        }
    }
}
