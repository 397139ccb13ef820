package io.jdiffusion.toyworld;

/**
 * SD 1.x's training noise schedule as diffusers computes it in float32: {@code scaled_linear} betas
 * (linspace of the square roots, squared), alphas = 1 - betas, abar = cumprod(alphas), and the sigmas
 * {@code sqrt((1 - abar) / abar)} that the UNet's timestep table holds.
 */
public final class NoiseSchedule {
    private NoiseSchedule() {
    }

    public static final int TRAIN_TIMESTEPS = 1000;
    public static final double BETA_START = 0.00085;
    public static final double BETA_END = 0.012;
    private static final float[] SIGMAS = sigmas();

    /** torch.linspace(sqrt(0.00085), sqrt(0.012), 1000, dtype=float32) ** 2. */
    public static float[] betas() {
        int n = TRAIN_TIMESTEPS;
        float start = (float) Math.sqrt(BETA_START);
        float end = (float) Math.sqrt(BETA_END);
        float step = (end - start) / (float) (n - 1);
        int half = n / 2;
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            float v = i < half ? start + step * (float) i : end - step * (float) (n - 1 - i);
            b[i] = v * v;
        }
        return b;
    }

    /** cumprod(1 - betas), accumulated in double and rounded to float per element. */
    public static float[] alphasCumprod() {
        float[] betas = betas();
        float[] out = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            float alpha = 1.0f - betas[i];
            acc *= alpha;
            out[i] = (float) acc;
        }
        return out;
    }

    /** sqrt((1 - abar) / abar) in float32, as diffusers' EulerDiscreteScheduler computes its sigmas. */
    public static float[] sigmas() {
        float[] ac = alphasCumprod();
        float[] s = new float[ac.length];
        for (int i = 0; i < ac.length; i++) {
            float ratio = (1.0f - ac[i]) / ac[i];
            s[i] = (float) Math.sqrt(ratio);
        }
        return s;
    }

    /** sigma at a possibly fractional timestep: t clipped to [0, 999], linear in sigma between neighbours. */
    public static double sigmaAt(double t) {
        float[] s = SIGMAS;
        double tc = Math.max(0, Math.min(TRAIN_TIMESTEPS - 1, t));
        int lo = (int) Math.floor(tc);
        int hi = (int) Math.ceil(tc);
        double f = tc - lo;
        return s[lo] + f * (s[hi] - s[lo]);
    }
}
