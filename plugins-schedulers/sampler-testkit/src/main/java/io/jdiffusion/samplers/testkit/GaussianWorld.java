package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.PredictionType;
import java.util.Map;

/**
 * An independent test world: data {@code x_0 ~ N(mu, s^2)} per element, for which the optimal model
 * and the probability-flow ODE are known in closed form. It is written in both of the forms the
 * samplers use, so a sampler's output can be checked against an exact answer rather than a recording.
 *
 * <p><b>Sigma form</b> (k-diffusion: Euler, Heun, DPM2, LMS, ...): {@code x = x_0 + sigma * eps}. The
 * optimal denoiser is {@code D(x, sigma) = (s^2 x + sigma^2 mu) / (s^2 + sigma^2)}, and the ODE
 * {@code dx/dsigma = (x - D) / sigma} moves {@code x - mu} in proportion to {@code sqrt(s^2 + sigma^2)}.
 *
 * <p><b>Alpha form</b> (DDPM, PNDM, LCM, ...): {@code x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) eps}, so
 * {@code E[eps | x_t] = sqrt(1 - ᾱ) (x_t - sqrt(ᾱ) mu) / (ᾱ s^2 + 1 - ᾱ)}, and the ODE in
 * {@code y = x / sqrt(ᾱ)}, {@code sigma = sqrt((1 - ᾱ) / ᾱ)} is the sigma-form one. The alpha-form
 * model needs the schedule's {@code alphas_cumprod}, given to the three-argument constructor.
 */
public final class GaussianWorld {
    public final double mu;
    public final double s;
    private final float[] alphasCumprod;

    /** A world for the sigma form only. */
    public GaussianWorld(double mu, double s) {
        this(mu, s, null);
    }

    /** A world whose alpha-form model looks ᾱ up in {@code alphasCumprod} by (integer) timestep. */
    public GaussianWorld(double mu, double s, float[] alphasCumprod) {
        this.mu = mu;
        this.s = s;
        this.alphasCumprod = alphasCumprod;
    }

    // ---- sigma form ----

    /** The exact E[x_0 | x] at noise level sigma. */
    public double denoise(double x, double sigma) {
        return (s * s * x + sigma * sigma * mu) / (s * s + sigma * sigma);
    }

    /** Where the probability-flow ODE takes x from sigma {@code from} to sigma {@code to}. */
    public double flow(double x, double from, double to) {
        return mu + (x - mu) * Math.sqrt((s * s + to * to) / (s * s + from * from));
    }

    /**
     * The optimal model as a k-diffusion sampler sees it: input scaled by {@code 1 / sqrt(sigma^2 + 1)},
     * output epsilon, v or x_0, on a [1, 1] latent. {@code sigmaOfT} maps each timestep the sampler will
     * ask about to its sigma; any other timestep fails the test.
     */
    public Denoiser model(PredictionType type, Map<Double, Double> sigmaOfT) {
        return new Denoiser() {
            @Override
            public float[] predict(float[] in, double timestep) {
                Double boxed = sigmaOfT.get(timestep);
                if (boxed == null) {
                    throw new AssertionError("unexpected timestep " + timestep + " (known: " + sigmaOfT.keySet() + ")");
                }
                double sigma = boxed;
                double c = Math.sqrt(sigma * sigma + 1);
                float[] out = new float[in.length];
                for (int i = 0; i < in.length; i++) {
                    double x = in[i] * c;
                    double d = denoise(x, sigma);
                    switch (type) {
                        case EPSILON:
                            out[i] = (float) ((x - d) / sigma);
                            break;
                        case SAMPLE:
                            out[i] = (float) d;
                            break;
                        default: // v: x0 = v * (-sigma / c) + x / c^2
                            out[i] = (float) ((x / (c * c) - d) * c / sigma);
                    }
                }
                return out;
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 1};
            }
        };
    }

    // ---- alpha form ----

    /** The exact E[eps | x] at ᾱ = a. */
    public double eps(double x, double a) {
        return Math.sqrt(1 - a) * (x - Math.sqrt(a) * mu) / (a * s * s + 1 - a);
    }

    /** The exact E[x_0 | x] at ᾱ = a. */
    public double x0(double x, double a) {
        return (x - Math.sqrt(1 - a) * eps(x, a)) / Math.sqrt(a);
    }

    /** Where the probability-flow ODE takes x from ᾱ = aFrom to ᾱ = aTo (the alpha-form {@link #flow}). */
    public double flowAlphas(double x, double aFrom, double aTo) {
        double sFrom = (1 - aFrom) / aFrom;
        double sTo = (1 - aTo) / aTo;
        double y = x / Math.sqrt(aFrom);
        double yTo = mu + (y - mu) * Math.sqrt((s * s + sTo) / (s * s + sFrom));
        return yTo * Math.sqrt(aTo);
    }

    /** The optimal alpha-form model at integer timesteps on a [1, n] latent, for the given prediction type. */
    public Denoiser model(PredictionType type, int n) {
        if (alphasCumprod == null) {
            throw new IllegalStateException("the alpha-form model needs alphas_cumprod: use the three-argument constructor");
        }
        return new Denoiser() {
            @Override
            public float[] predict(float[] x, double timestep) {
                double a = alphasCumprod[(int) timestep];
                float[] out = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    double e = eps(x[i], a);
                    switch (type) {
                        case EPSILON:
                            out[i] = (float) e;
                            break;
                        case SAMPLE:
                            out[i] = (float) x0(x[i], a);
                            break;
                        default:
                            out[i] = (float) (Math.sqrt(a) * e - Math.sqrt(1 - a) * x0(x[i], a));
                    }
                }
                return out;
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, n};
            }
        };
    }
}
