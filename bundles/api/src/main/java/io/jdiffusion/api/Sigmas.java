package io.jdiffusion.api;

/**
 * Noise-level arithmetic that every sampler needs, written to give the numbers diffusers gives:
 * numpy's {@code linspace}, {@code arange}, {@code interp} and {@code round} (half to even) in
 * double precision, torch's float32 operations where diffusers holds tensors, and the helpers
 * diffusers' discrete schedulers share ({@code timestep_spacing}, {@code _sigma_to_t},
 * {@code _convert_to_karras}, {@code _convert_to_exponential}).
 *
 * <p>Sigmas index by training timestep: {@code sigmas[t] = sqrt((1 - ᾱ_t) / ᾱ_t)}, ascending in
 * {@code t}. Samplers plan in the other direction (largest first), as diffusers does.
 */
public final class Sigmas {
    private Sigmas() {
    }

    /**
     * {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} on a float32 tensor, element by
     * element in float32 as torch computes it (torch's {@code pow(x, 0.5)} is {@code sqrt}).
     */
    public static float[] fromAlphasCumprod(float[] alphasCumprod) {
        float[] out = new float[alphasCumprod.length];
        for (int i = 0; i < out.length; i++) {
            float a = alphasCumprod[i];
            out[i] = (float) Math.sqrt((1f - a) / a);
        }
        return out;
    }

    /** {@code np.log} of a float32 array, kept in float32 (diffusers' {@code log_sigmas}). */
    public static float[] logFloat32(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.log(x[i]);
        }
        return out;
    }

    /**
     * diffusers' {@code _sigma_to_t}: the (fractional) training timestep of {@code sigma}, by
     * linear interpolation in log sigma between the two neighbouring training sigmas.
     *
     * @param logSigmas log of the training sigmas, ascending by timestep ({@link #logFloat32})
     */
    public static double sigmaToT(double sigma, float[] logSigmas) {
        int n = logSigmas.length;
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        // low_idx = cumsum(dists >= 0).argmax().clip(max=n-2): the first index where the running
        // count of log_sigmas <= log_sigma reaches its maximum
        int count = 0;
        int best = 0;
        int lowIdx = 0;
        for (int i = 0; i < n; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                count++;
            }
            if (count > best) {
                best = count;
                lowIdx = i;
            }
        }
        lowIdx = Math.min(lowIdx, n - 2);
        int highIdx = lowIdx + 1;
        double low = logSigmas[lowIdx];
        double high = logSigmas[highIdx];
        double w = (low - logSigma) / (low - high);
        w = Math.min(Math.max(w, 0.0), 1.0);
        return (1 - w) * lowIdx + w * highIdx;
    }

    /** {@code np.interp(x, np.arange(len(fp)), fp)}: linear interpolation at a (fractional) index. */
    public static double interpIndex(double x, float[] fp) {
        int n = fp.length;
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < 0) {
            return fp[0];
        }
        if (x >= n - 1) {
            return fp[n - 1];
        }
        int j = (int) Math.floor(x);
        if (x == j) {
            return fp[j];
        }
        double slope = ((double) fp[j + 1] - (double) fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }

    /** {@code np.interp(x, xp, fp)} for increasing {@code xp}, in double precision. */
    public static double interp(double x, double[] xp, double[] fp) {
        int n = xp.length;
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < xp[0]) {
            return fp[0];
        }
        if (x > xp[n - 1]) {
            return fp[n - 1];
        }
        if (x == xp[n - 1]) {
            return fp[n - 1];
        }
        int lo = 0;
        int hi = n - 1; // xp[lo] <= x < xp[hi]
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (xp[mid] <= x) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if (xp[lo] == x) {
            return fp[lo];
        }
        double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
        return slope * (x - xp[lo]) + fp[lo];
    }

    /** {@code np.linspace(start, stop, num)} in float64: {@code i * step + start}, the last value exactly {@code stop}. */
    public static double[] linspace(double start, double stop, int num) {
        if (num < 0) {
            throw new IllegalArgumentException("num must be >= 0");
        }
        double[] y = new double[num];
        if (num == 0) {
            return y;
        }
        if (num == 1) {
            y[0] = start;
            return y;
        }
        int div = num - 1;
        double delta = stop - start;
        double step = delta / div;
        for (int i = 0; i < num; i++) {
            y[i] = step == 0 ? (i / (double) div) * delta + start : i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /**
     * {@code torch.linspace(start, end, n, dtype=torch.float32)} on the CPU: filled from both ends
     * towards the middle in float32.
     */
    public static float[] linspaceFloat32(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (n - i - 1);
        }
        return out;
    }

    /**
     * {@code np.arange(start, stop, step)} for floating-point arguments: length
     * {@code ceil((stop - start) / step)}, values {@code start + i * delta} with numpy's
     * {@code delta = (start + step) - start}.
     */
    public static double[] arange(double start, double stop, double step) {
        if (step == 0) {
            throw new IllegalArgumentException("step must not be 0");
        }
        double len = Math.ceil((stop - start) / step);
        int n = len > 0 ? (int) len : 0;
        double[] out = new double[n];
        if (n == 0) {
            return out;
        }
        double delta = (start + step) - start;
        for (int i = 0; i < n; i++) {
            out[i] = start + i * delta;
        }
        return out;
    }

    /** {@code np.round}: round half to even. */
    public static double round(double x) {
        return Math.rint(x);
    }

    /**
     * The timesteps of diffusers' {@code timestep_spacing} (Table 2 of "Common Diffusion Noise
     * Schedules and Sample Steps are Flawed"), largest first, before the scheduler's own dtype
     * cast: {@code linspace} gives {@code np.linspace(0, N - 1, steps)} unrounded (DDIM rounds it,
     * Euler keeps it fractional), {@code leading} {@code round(arange(steps) * (N // steps)) + steps_offset},
     * {@code trailing} {@code round(arange(N, 0, -N / steps)) - 1}.
     */
    public static double[] spacedTimesteps(String spacing, int numTrainTimesteps, int steps, int stepsOffset) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        double[] out;
        switch (spacing) {
            case "linspace": {
                double[] t = linspace(0, numTrainTimesteps - 1, steps);
                out = reverse(t);
                break;
            }
            case "leading": {
                int ratio = numTrainTimesteps / steps;
                out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[steps - 1 - i] = round((double) i * ratio) + stepsOffset;
                }
                break;
            }
            case "trailing": {
                double ratio = (double) numTrainTimesteps / steps;
                double[] t = arange(numTrainTimesteps, 0, -ratio);
                out = new double[t.length];
                for (int i = 0; i < t.length; i++) {
                    out[i] = round(t[i]) - 1;
                }
                break;
            }
            default:
                throw new IllegalArgumentException("timestep_spacing must be linspace, leading or trailing, not "
                        + spacing);
        }
        return out;
    }

    /**
     * k-diffusion's / diffusers' {@code _convert_to_karras}: {@code n} sigmas from {@code sigmaMax}
     * down to {@code sigmaMin}, evenly spaced in {@code sigma^(1/rho)} (rho 7 in the paper).
     */
    public static double[] karras(int n, double sigmaMin, double sigmaMax, double rho) {
        double[] ramp = linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }
        return out;
    }

    /** diffusers' {@code _convert_to_exponential}: {@code n} sigmas evenly spaced in log sigma, largest first. */
    public static double[] exponential(int n, double sigmaMin, double sigmaMax) {
        double[] l = linspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp(l[i]);
        }
        return out;
    }

    /** Each value rounded to float32 and widened back (numpy's {@code astype(np.float32)}). */
    public static double[] toFloat32(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) x[i];
        }
        return out;
    }

    private static double[] reverse(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[x.length - 1 - i];
        }
        return out;
    }

    /**
     * k-diffusion's {@code DiscreteSchedule.get_sigmas(n)} (the spacing AUTOMATIC1111 uses for its
     * k-diffusion samplers on SD): {@code t = torch.linspace(N - 1, 0, n)} in float32, each
     * {@code t_to_sigma(t)} (log sigma interpolated linearly between the neighbouring training
     * sigmas, in float32), then a final 0. Length {@code n + 1}, float32 values.
     *
     * @param logSigmas log of the training sigmas, ascending by timestep ({@link #logFloat32})
     */
    public static double[] kDiffusionSigmas(int n, float[] logSigmas) {
        if (n < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        float[] t = linspaceFloat32(logSigmas.length - 1, 0f, n);
        double[] out = new double[n + 1];
        for (int i = 0; i < n; i++) {
            out[i] = kDiffusionTToSigma(t[i], logSigmas);
        }
        out[n] = 0;
        return out;
    }

    /**
     * k-diffusion's {@code DiscreteSchedule.t_to_sigma} in float32: {@code exp((1 - w) log_sigmas[floor t]
     * + w log_sigmas[ceil t])} with {@code w = frac(t)}.
     */
    public static float kDiffusionTToSigma(float t, float[] logSigmas) {
        int low = (int) Math.floor(t);
        int high = (int) Math.ceil(t);
        float w = t - (float) Math.floor(t);
        float logSigma = (1f - w) * logSigmas[low] + w * logSigmas[high];
        return (float) Math.exp(logSigma);
    }

    /**
     * k-diffusion's {@code DiscreteSchedule.sigma_to_t} (unquantized) in float32: the fractional
     * training timestep of {@code sigma} by linear interpolation in log sigma, clamped to
     * {@code 0..N-1}. The float32 counterpart of {@link #sigmaToT}, as k-diffusion computes it on
     * tensors.
     */
    public static float kDiffusionSigmaToT(float sigma, float[] logSigmas) {
        int n = logSigmas.length;
        float logSigma = (float) Math.log(sigma);
        // low_idx = dists.ge(0).cumsum(0).argmax(0).clamp(max=n-2): the first index where the running
        // count of log_sigmas <= log_sigma reaches its maximum
        int count = 0;
        int best = 0;
        int lowIdx = 0;
        for (int i = 0; i < n; i++) {
            if (logSigma - logSigmas[i] >= 0f) {
                count++;
            }
            if (count > best) {
                best = count;
                lowIdx = i;
            }
        }
        lowIdx = Math.min(lowIdx, n - 2);
        int highIdx = lowIdx + 1;
        float low = logSigmas[lowIdx];
        float high = logSigmas[highIdx];
        float w = (low - logSigma) / (low - high);
        w = Math.min(Math.max(w, 0f), 1f);
        return (1f - w) * lowIdx + w * highIdx;
    }
}
