package io.jdiffusion.samplers.lms;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * Linear multistep (k-diffusion's {@code sample_lms}), as diffusers' {@code LMSDiscreteScheduler}: the same
 * float32 timesteps and sigmas, {@code init_noise_sigma}, {@code scale_model_input}, the derivative history
 * of up to {@code order} (default 4) steps, and float32 step arithmetic.
 *
 * <p>The coefficients are the integrals over {@code [sigma_t, sigma_{t+1}]} of the Lagrange basis
 * polynomials on the last {@code order} sigmas. diffusers computes them with {@code scipy.integrate.quad}
 * (QUADPACK, {@code epsrel=1e-4}) on the polynomial evaluated in float32; the integrand is a polynomial of
 * degree {@code order - 1}, so here it is integrated exactly by 4-point Gauss-Legendre quadrature (exact to
 * degree 7) in double. The two agree to float32 rounding, and each coefficient is rounded to float32 where it
 * multiplies a float32 tensor, as in diffusers.
 *
 * <p>Like diffusers, the step at index {@code t} takes {@code min(t + 1, order)} coefficients but pairs them
 * with the derivatives it has ({@code zip} stops at the shorter): an img2img run that starts at step
 * {@code k > 0} uses only the first coefficients of the full-order set until its history fills up.
 *
 * <p>Config keys read: {@code num_train_timesteps}, betas, {@code prediction_type} (epsilon, v_prediction,
 * sample), {@code timestep_spacing} (default {@code linspace}), {@code steps_offset},
 * {@code use_karras_sigmas}, {@code use_exponential_sigmas}. A {@link SamplerSettings#schedule()} replaces
 * the sigma spacing the way {@code use_karras_sigmas} does.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=lms", Plugin.LABEL + "=LMS"})
public class LmsSampler implements Sampler {
    public static final String ORDER = "order";

    static final DiscreteSigmaPlan.Options OPTIONS =
            new DiscreteSigmaPlan.Options("linspace", true, DiscreteSigmaPlan.ScheduleTimesteps.FLOAT32, 1);

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ORDER, 4, 1, 4,
                    "Number of past derivatives combined per step (4 = diffusers / A1111 default, 1 = Euler)"));

    /** Gauss-Legendre nodes and weights on [-1, 1], 4 points (exact for polynomials of degree up to 7). */
    private static final double[] GL_NODES = {
        -0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
    private static final double[] GL_WEIGHTS = {
        0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};

    @Override
    public boolean acceptsSchedule() {
        return true;
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        return DiscreteSigmaPlan.plan(config, DiscreteSigmaPlan.alphasCumprod(config, false, false), steps, settings,
                OPTIONS);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        Stepper stepper = new Stepper(plan);
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        float[] scaled = new float[x.length];
        for (int i = startStep; i < steps; i++) {
            stepper.scaleModelInput(x, i, scaled);
            float[] out = model.predict(scaled, timesteps[i]);
            stepper.step(out, i, x);
            p.step(i + 1, steps);
        }
        return x;
    }

    /** diffusers' {@code add_noise}: {@code original + noise * sigma} in float32. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DiscreteSigmaPlan.addNoise(original, noise, plan, startStep);
    }

    /**
     * diffusers' {@code get_lms_coefficient(order, t, current_order)}: the integral from {@code sigmas[t]} to
     * {@code sigmas[t + 1]} of {@code prod_{k != current_order} (tau - sigmas[t - k]) / (sigmas[t - current_order]
     * - sigmas[t - k])} over {@code k < order}, exact (Gauss-Legendre on a polynomial of degree {@code order - 1}).
     */
    static double lmsCoefficient(double[] sigmas, int order, int t, int currentOrder) {
        if (order < 1 || order > 8) {
            throw new IllegalArgumentException("order must be in 1..8, not " + order);
        }
        double a = sigmas[t];
        double b = sigmas[t + 1];
        double half = (b - a) / 2;
        double mid = (a + b) / 2;
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            double tau = mid + half * GL_NODES[q];
            double prod = 1.0;
            for (int k = 0; k < order; k++) {
                if (k == currentOrder) {
                    continue;
                }
                prod *= (tau - sigmas[t - k]) / (sigmas[t - currentOrder] - sigmas[t - k]);
            }
            sum += GL_WEIGHTS[q] * prod;
        }
        return sum * half;
    }

    /**
     * diffusers' {@code scale_model_input} and {@code step} with the scheduler's derivative history, in float32.
     * Package-private so tests can drive them with diffusers' own test loops.
     */
    static final class Stepper {
        private final double[] sigmas;
        private final PredictionType prediction;
        private final int order;
        private final Deque<float[]> derivatives = new ArrayDeque<>();

        Stepper(SamplerPlan plan) {
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.sigmas = plan.sigmas();
            this.prediction = plan.config().predictionType();
            double o = settings.param(ORDER, 4);
            if (o != Math.rint(o) || o < 1 || o > 8) {
                throw new IllegalArgumentException("order must be a whole number in 1..8, not " + o);
            }
            this.order = (int) o;
        }

        /** {@code scale_model_input}: {@code sample / (sigma**2 + 1) ** 0.5} into {@code out}. */
        void scaleModelInput(float[] sample, int i, float[] out) {
            float sigma = (float) sigmas[i];
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            for (int j = 0; j < sample.length; j++) {
                out[j] = sample[j] / scale;
            }
        }

        /** {@code step(model_output, timesteps[i], sample)}: {@code sample} becomes {@code prev_sample}. */
        void step(float[] modelOutput, int i, float[] sample) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n
                        + " latents");
            }
            float sigma = (float) sigmas[i];
            float[] derivative = new float[n];
            switch (prediction) {
                case EPSILON:
                    for (int j = 0; j < n; j++) {
                        float x0 = sample[j] - sigma * modelOutput[j];
                        derivative[j] = (sample[j] - x0) / sigma;
                    }
                    break;
                case V_PREDICTION: {
                    float c = sigma * sigma + 1f;
                    float cOut = -sigma / (float) Math.sqrt(c);
                    for (int j = 0; j < n; j++) {
                        float x0 = modelOutput[j] * cOut + sample[j] / c;
                        derivative[j] = (sample[j] - x0) / sigma;
                    }
                    break;
                }
                case SAMPLE:
                    for (int j = 0; j < n; j++) {
                        derivative[j] = (sample[j] - modelOutput[j]) / sigma;
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown prediction type " + prediction);
            }
            derivatives.addLast(derivative);
            if (derivatives.size() > order) {
                derivatives.removeFirst();
            }
            int currentOrder = Math.min(i + 1, order);
            int terms = Math.min(currentOrder, derivatives.size());
            // prev_sample = sample + sum(coeff * derivative for coeff, derivative in zip(lms_coeffs, reversed(derivatives)))
            float[] acc = new float[n];
            Iterator<float[]> newestFirst = derivatives.descendingIterator();
            for (int c = 0; c < terms; c++) {
                float coeff = (float) lmsCoefficient(sigmas, currentOrder, i, c);
                float[] d = newestFirst.next();
                for (int j = 0; j < n; j++) {
                    acc[j] = c == 0 ? coeff * d[j] : acc[j] + coeff * d[j];
                }
            }
            for (int j = 0; j < n; j++) {
                sample[j] = sample[j] + acc[j];
            }
        }

        /** How many derivatives the history holds. */
        int history() {
            return derivatives.size();
        }
    }
}
