package io.jdiffusion.samplers.dpmpp_2s_a;

import static io.jdiffusion.samplers.testkit.Gaussians.gaussian;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.util.SplittableRandom;

/**
 * 1-D data N(mu, s^2) in every latent, as an epsilon-predicting UNet would see it through
 * k-diffusion's CompVisDenoiser: the input is {@code x / sqrt(sigma^2 + 1)}, the timestep
 * k-diffusion's {@code sigma_to_t(sigma)}; the exact denoiser is
 * {@code D(x, sigma) = (s^2 x + sigma^2 mu) / (s^2 + sigma^2)} and the model returns
 * {@code (x - D) / sigma}. The probability-flow ODE {@code dx/dsigma = (x - D) / sigma} then has the
 * closed form {@code x(sigma) = mu + (x(sigma0) - mu) sqrt((s^2 + sigma^2) / (s^2 + sigma0^2))}.
 */
final class GaussianData implements Denoiser {
    final double mu;
    final double var;
    final int n;
    private final float[] logSigmas;
    int calls;

    GaussianData(double mu, double sd, int n, SchedulerConfig config) {
        this.mu = mu;
        this.var = sd * sd;
        this.n = n;
        this.logSigmas = Sigmas.logFloat32(Sigmas.fromAlphasCumprod(config.alphasCumprod()));
    }

    /** k-diffusion's t_to_sigma in double precision: the inverse of sigma_to_t. */
    double sigmaOf(double t) {
        int lo = (int) Math.floor(t);
        int hi = (int) Math.ceil(t);
        double w = t - lo;
        return Math.exp((1 - w) * logSigmas[lo] + w * logSigmas[hi]);
    }

    double denoise(double x, double sigma) {
        return (var * x + sigma * sigma * mu) / (var + sigma * sigma);
    }

    /** The exact probability-flow ODE solution from x at sigma0 to sigma. */
    double flow(double x, double sigma0, double sigma) {
        return mu + (x - mu) * Math.sqrt((var + sigma * sigma) / (var + sigma0 * sigma0));
    }

    /** Draws of the exact marginal N(mu, s^2 + sigma^2) at sigma. */
    float[] marginal(double sigma, SplittableRandom r) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mu + Math.sqrt(var + sigma * sigma) * gaussian(r));
        }
        return x;
    }

    @Override
    public float[] predict(float[] modelInput, double timestep) {
        calls++;
        double sigma = sigmaOf(timestep);
        double cIn = 1 / Math.sqrt(sigma * sigma + 1);
        float[] eps = new float[modelInput.length];
        for (int i = 0; i < eps.length; i++) {
            double x = modelInput[i] / cIn;
            eps[i] = (float) ((x - denoise(x, sigma)) / sigma);
        }
        return eps;
    }

    @Override
    public int[] latentShape() {
        return new int[] {1, n};
    }
}
