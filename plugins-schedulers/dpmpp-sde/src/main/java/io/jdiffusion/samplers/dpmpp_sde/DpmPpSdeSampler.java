package io.jdiffusion.samplers.dpmpp_sde;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DiscreteSigmaPlan;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.Sigmas;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * DPM++ SDE: diffusers' {@code DPMSolverSDEScheduler}, which is k-diffusion's
 * {@code sample_dpmpp_sde} (stochastic DPM-Solver++ with midpoint {@code r = 1/2}) as a scheduler.
 * Each step calls the model twice: at {@code sigma}, then at the midpoint {@code sqrt(sigma *
 * sigma_next)} of an ancestral half step; the last step, to sigma 0, is a single Euler step.
 *
 * <p>Planning follows {@code set_timesteps}: timesteps by {@code timestep_spacing} (default
 * {@code linspace}, kept in float64 and unrounded), sigmas interpolated at them (or Karras /
 * exponential spacing between the first and last of those sigmas, timesteps mapped back by
 * {@code _sigma_to_t}), the midpoint timesteps by {@code _second_order_timesteps}, a final 0, and
 * {@code init_noise_sigma} as Euler's. The model input is {@code x / sqrt(sigma^2 + 1)} (at the
 * midpoint sigma on the second call), all arithmetic float32 as on diffusers' tensors.
 *
 * <p>The noise is not drawn from the {@link NoiseSource}: as in diffusers and k-diffusion it comes
 * from torchsde's Brownian tree over {@code [smallest sigma > 0, largest sigma]}, ported exactly in
 * {@link BrownianTree} (the increment {@code W(sigma_next) - W(sigma)} scaled to unit variance). Its
 * entropy is the config's {@code noise_sampler_seed} when set (as diffusers), else the image's seed
 * ({@link NoiseSource#seed()}), as AUTOMATIC1111 seeds it; diffusers without
 * {@code noise_sampler_seed} draws a random entropy from torch's global generator instead, which
 * no seed reproduces.
 *
 * <p>Parameters: {@code s_noise} (diffusers' {@code step(..., s_noise)}) and {@code eta} (k-diffusion's;
 * 1, the default, is diffusers' behaviour). Prediction types: epsilon and v_prediction (diffusers
 * does not implement {@code sample} here).
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=dpmpp_sde", Plugin.LABEL + "=DPM++ SDE"})
public class DpmPpSdeSampler implements Sampler {
    public static final String ETA = "eta";
    public static final String S_NOISE = "s_noise";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(ETA, 1.0, 0.0, 1.0,
                    "Stochasticity of each half step (k-diffusion's eta): 1 is diffusers' DPM++ SDE, 0 deterministic"),
            new ParameterSpec(S_NOISE, 1.0, 0.0, 2.0,
                    "Scale of the Brownian noise added each half step"));

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
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        Planned p = planned(config, steps, s);
        double[] sigmas = new double[p.sigmas.length + 1];
        float max = 0f;
        for (int i = 0; i < p.sigmas.length; i++) {
            sigmas[i] = (float) p.sigmas[i];
            max = Math.max(max, (float) p.sigmas[i]);
        }
        String spacing = config.timestepSpacing("linspace");
        double initNoiseSigma = "linspace".equals(spacing) || "trailing".equals(spacing)
                ? max : (float) Math.sqrt(max * max + 1f);
        return new SamplerPlan(p.timesteps, sigmas, initNoiseSigma, 2, config, s);
    }

    /** The float64 arrays of {@code set_timesteps} before the float32 cast. */
    record Planned(double[] timesteps, double[] sigmas, double[] midTimesteps) {
    }

    static Planned planned(SchedulerConfig config, int steps, SamplerSettings settings) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        float[] train = Sigmas.fromAlphasCumprod(config.alphasCumprod());
        float[] logSigmas = Sigmas.logFloat32(train);
        int numTrain = train.length;
        String spacing = config.timestepSpacing("linspace");
        double[] timesteps = Sigmas.spacedTimesteps(spacing, numTrain, steps, config.stepsOffset());
        int n = timesteps.length;
        double[] sigmas = new double[n];
        for (int i = 0; i < n; i++) {
            sigmas[i] = Sigmas.interpIndex(timesteps[i], train);
        }
        NoiseSchedule schedule = DiscreteSigmaPlan.noiseSchedule(config, settings);
        if (schedule != null) {
            double[] spaced = schedule.sigmas(n, sigmas[n - 1], sigmas[0]);
            if (spaced == null || spaced.length != n) {
                throw new IllegalStateException("noise schedule gave " + (spaced == null ? "no" : spaced.length)
                        + " sigmas for " + n + " steps");
            }
            sigmas = spaced.clone();
            for (int i = 0; i < n; i++) {
                timesteps[i] = Sigmas.sigmaToT(sigmas[i], logSigmas);
            }
        }
        // _second_order_timesteps: the timestep of exp(-(t_i + t_{i+1}) / 2), t = -log(sigma)
        double[] mid = new double[Math.max(0, n - 1)];
        for (int i = 0; i < n - 1; i++) {
            double t = -Math.log(sigmas[i]);
            double tNext = -Math.log(sigmas[i + 1]);
            double proposed = t + (tNext - t) * 0.5;
            mid[i] = Sigmas.sigmaToT(Math.exp(-proposed), logSigmas);
        }
        return new Planned(timesteps, sigmas, mid);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        int steps = plan.checkStartStep(startStep);
        Stepper stepper = new Stepper(plan, entropy(plan.config(), noise));
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        // diffusers' pipeline over the interleaved timesteps: scale_model_input -> UNet -> step
        for (int call = 2 * startStep; call < stepper.calls(); call++) {
            float[] scaled = stepper.scaleModelInput(x, call);
            float[] out = model.predict(scaled, stepper.timestep(call));
            x = stepper.step(out, call, x);
            if (stepper.inFirstOrder()) {
                p.step(call / 2 + 1, steps);
            }
        }
        return x;
    }

    /** diffusers' {@code add_noise} (Euler's): {@code x0 + noise * sigma} in float32, sigma of the start step. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DiscreteSigmaPlan.addNoise(original, noise, plan, startStep);
    }

    /** The Brownian tree's entropy: {@code noise_sampler_seed} from the config, else the image seed. */
    static long entropy(SchedulerConfig config, NoiseSource noise) {
        if (config.has("noise_sampler_seed")) {
            return (long) config.getDouble("noise_sampler_seed", 0);
        }
        if (noise == null) {
            throw new IllegalArgumentException("DPM++ SDE needs a seeded noise source");
        }
        return noise.seed();
    }

    /**
     * diffusers' {@code DPMSolverSDEScheduler} state machine over its interleaved timesteps
     * ({@code t_0, mid_0, t_1, mid_1, ..., t_{n-1}}): call {@code 2i} is step i's first-order half,
     * call {@code 2i+1} its second-order half. Package-private so tests can drive it with
     * diffusers' own test loop.
     */
    static final class Stepper {
        private final double[] sigmas;
        private final double[] timesteps;
        private final double[] midTimesteps;
        private final int steps;
        private final PredictionType prediction;
        private final float eta;
        private final float sNoise;
        private final long entropy;
        private BrownianTree tree;
        private float treeSign;
        private float[] firstSample;
        private float midPointSigma;

        Stepper(SamplerPlan plan, long entropy) {
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.sigmas = plan.sigmas();
            this.timesteps = plan.timesteps();
            this.steps = plan.steps();
            this.midTimesteps = planned(plan.config(), steps, settings).midTimesteps();
            this.prediction = plan.config().predictionType();
            if (prediction != PredictionType.EPSILON && prediction != PredictionType.V_PREDICTION) {
                throw new IllegalArgumentException("DPM++ SDE supports epsilon and v_prediction models, not "
                        + prediction);
            }
            this.eta = (float) settings.param(ETA, 1.0);
            this.sNoise = (float) settings.param(S_NOISE, 1.0);
            this.entropy = entropy;
        }

        int calls() {
            return 2 * steps - 1;
        }

        boolean inFirstOrder() {
            return firstSample == null;
        }

        double timestep(int call) {
            return call % 2 == 0 ? timesteps[call / 2] : midTimesteps[call / 2];
        }

        /** {@code scale_model_input}: {@code sample / sqrt(sigma_input^2 + 1)}. */
        float[] scaleModelInput(float[] sample, int call) {
            float sigma = inFirstOrder() ? (float) sigmas[(call + 1) / 2] : midPointSigma;
            float scale = (float) Math.sqrt(sigma * sigma + 1f);
            float[] out = new float[sample.length];
            for (int j = 0; j < out.length; j++) {
                out[j] = sample[j] / scale;
            }
            return out;
        }

        /** {@code step(model_output, timesteps[call], sample)}: returns {@code prev_sample}. */
        float[] step(float[] modelOutput, int call, float[] sample) {
            int n = sample.length;
            if (modelOutput.length != n) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for " + n + " latents");
            }
            if (tree == null) {
                // BrownianTreeNoiseSampler(sample, sigmas[sigmas > 0].min(), sigmas.max(), seed)
                float min = Float.POSITIVE_INFINITY;
                float max = 0f;
                for (double s : sigmas) {
                    if (s > 0) {
                        min = Math.min(min, (float) s);
                    }
                    max = Math.max(max, (float) s);
                }
                tree = new BrownianTree(Math.min(min, max), Math.max(min, max), n, entropy);
                treeSign = min < max ? 1f : -1f;
            }
            boolean first = inFirstOrder();
            int i = first ? call / 2 : (call - 1) / 2;
            float sigma = (float) sigmas[i];
            float sigmaNext = (float) sigmas[i + 1];
            float t = tFn(sigma);
            float tNext = tFn(sigmaNext);
            float delta = tNext - t;
            float tProposed = t + delta * 0.5f;

            float sigmaInput = first ? sigma : sigmaFn(tProposed);
            float[] denoised = new float[n];
            if (prediction == PredictionType.EPSILON) {
                for (int j = 0; j < n; j++) {
                    denoised[j] = sample[j] - sigmaInput * modelOutput[j];
                }
            } else {
                float c = sigmaInput * sigmaInput + 1f;
                float cOut = -sigmaInput / (float) Math.sqrt(c);
                for (int j = 0; j < n; j++) {
                    denoised[j] = modelOutput[j] * cOut + sample[j] / c;
                }
            }

            float[] prev = new float[n];
            if (sigmaNext == 0f) {
                float dt = sigmaNext - sigma;
                for (int j = 0; j < n; j++) {
                    float derivative = (sample[j] - denoised[j]) / sigma;
                    prev[j] = sample[j] + derivative * dt;
                }
                return prev;
            }
            float[] x = sample;
            if (first) {
                tNext = tProposed;
            } else {
                x = firstSample;
            }
            float sigmaFrom = sigmaFn(t);
            float sigmaTo = sigmaFn(tNext);
            float sigmaUp = Math.min(sigmaTo, eta * (float) Math.sqrt(sigmaTo * sigmaTo
                    * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom)));
            float sigmaDown = (float) Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
            float ancestralT = tFn(sigmaDown);
            float c1 = sigmaFn(ancestralT) / sigmaFn(t);
            float c2 = (float) Math.expm1(t - ancestralT);
            float[] w = noise(sigmaFn(t), sigmaFn(tNext));
            for (int j = 0; j < n; j++) {
                float v = c1 * x[j] - c2 * denoised[j];
                prev[j] = v + w[j] * sNoise * sigmaUp;
            }
            if (first) {
                firstSample = x;
                midPointSigma = sigmaFn(tNext);
            } else {
                firstSample = null;
                midPointSigma = 0f;
            }
            return prev;
        }

        /** {@code BrownianTreeNoiseSampler(sigma, sigma_next)}: {@code W(sigma_next) - W(sigma)} over {@code sqrt|sigma_next - sigma|}. */
        private float[] noise(float from, float to) {
            float a = Math.min(from, to);
            float b = Math.max(from, to);
            float sign = treeSign * (from < to ? 1f : -1f);
            float[] w = tree.increment(a, b);
            float norm = (float) Math.sqrt(Math.abs(to - from));
            float[] out = new float[w.length];
            for (int j = 0; j < out.length; j++) {
                out[j] = w[j] * sign / norm;
            }
            return out;
        }
    }

    static float tFn(float sigma) {
        return -(float) Math.log(sigma);
    }

    static float sigmaFn(float t) {
        return (float) Math.exp(-t);
    }
}
