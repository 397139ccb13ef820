package io.jdiffusion.samplers.pndm;

import io.jdiffusion.api.Alphas;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * PLMS / PNDM (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds"),
 * exactly as diffusers' {@code PNDMScheduler}: its timesteps, its counter-driven {@code step}, its
 * float32 arithmetic and its {@code add_noise}.
 *
 * <p>With {@code skip_prk_steps} (Stable Diffusion's config sets it) this is crowsonkb's PLMS
 * sampler: the timesteps of {@code timestep_spacing} (default {@code leading}) with the
 * second-to-last repeated, so {@code steps} steps make {@code steps + 1} model calls; the first
 * call is an Euler (DDIM) step, the second re-runs it from the same start with the average of both
 * outputs (a Heun step), and later calls use Adams-Bashforth combinations of the last 2, 3 and
 * then 4 outputs. Without it (diffusers' default) the first three intervals take classic
 * Runge-Kutta steps (pseudo-RK, 12 model calls at half-step timesteps) and the rest fourth-order
 * linear multistep, {@code steps + 9} model calls in all; that needs at least 4 steps.
 *
 * <p>So {@link SamplerPlan#timesteps()} has one entry per model call, more than {@code steps};
 * the loop calls the model once per entry, as diffusers' pipelines do. Like diffusers, the step
 * kind is chosen by a counter that starts at 0 wherever the loop starts: image-to-image that
 * starts mid-plan begins with the first-step rule, as it does in diffusers.
 *
 * <p>Works in alpha terms: sigmas are {@code null}, the model input is not scaled,
 * {@code init_noise_sigma} is 1. Prediction types {@code epsilon} and {@code v_prediction}
 * (diffusers' PNDM has no {@code sample} prediction). With {@code v_prediction} diffusers combines
 * the raw v outputs of several timesteps and turns the combination into epsilon with the current
 * sample, which makes the multistep method first order only (on a Gaussian test world the error
 * halves per doubling of steps, where with epsilon it falls about eightfold); that is mirrored, so
 * results stay diffusers' own. Config keys read: betas,
 * {@code num_train_timesteps}, {@code skip_prk_steps} (default false), {@code set_alpha_to_one}
 * (default false), {@code steps_offset}, {@code timestep_spacing}, {@code prediction_type}.
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=pndm", Plugin.LABEL + "=PLMS"})
public class PndmSampler implements Sampler {
    /** diffusers' {@code pndm_order}: the multistep order, and the minimum steps without {@code skip_prk_steps}. */
    static final int PNDM_ORDER = 4;

    private static final float ONE_SIXTH = (float) (1.0 / 6);
    private static final float ONE_THIRD = (float) (1.0 / 3);
    private static final float ONE_24TH = (float) (1.0 / 24);

    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        SamplerSettings s = settings == null ? SamplerSettings.DEFAULT : settings;
        return new SamplerPlan(timesteps(config, steps), null, 1.0, 1, config, s);
    }

    /** diffusers' {@code set_timesteps}: {@code concatenate([prk_timesteps, plms_timesteps])}. */
    static double[] timesteps(SchedulerConfig config, int steps) {
        PredictionType prediction = config.predictionType();
        if (prediction != PredictionType.EPSILON && prediction != PredictionType.V_PREDICTION) {
            throw new IllegalArgumentException("PLMS (PNDMScheduler) supports prediction_type epsilon and "
                    + "v_prediction, not " + prediction.configName());
        }
        boolean skipPrk = config.getBoolean("skip_prk_steps", false);
        if (!skipPrk && steps < PNDM_ORDER) {
            throw new IllegalArgumentException("PLMS without skip_prk_steps needs steps >= " + PNDM_ORDER
                    + " (num_inference_steps must be >= pndm_order), not " + steps);
        }
        double[] descending = Alphas.discreteTimesteps(config, steps, "leading");
        int n = descending.length;
        double[] asc = new double[n]; // diffusers' _timesteps, ascending
        for (int i = 0; i < n; i++) {
            asc[i] = descending[n - 1 - i];
        }
        if (skipPrk) {
            // concatenate([_timesteps[:-1], _timesteps[-2:-1], _timesteps[-1:]])[::-1]
            List<Double> plms = new ArrayList<>();
            for (int i = 0; i < n - 1; i++) {
                plms.add(asc[i]);
            }
            if (n >= 2) {
                plms.add(asc[n - 2]);
            }
            plms.add(asc[n - 1]);
            double[] out = new double[plms.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = plms.get(out.length - 1 - i);
            }
            return out;
        }
        // prk: (_timesteps[-4:].repeat(2) + tile([0, N // steps // 2], 4))[:-1].repeat(2)[1:-1][::-1]
        int half = config.numTrainTimesteps() / steps / 2;
        double[] pairs = new double[2 * PNDM_ORDER];
        for (int k = 0; k < PNDM_ORDER; k++) {
            double t = asc[n - PNDM_ORDER + k];
            pairs[2 * k] = t;
            pairs[2 * k + 1] = t + half;
        }
        double[] repeated = new double[2 * (pairs.length - 1)];
        for (int k = 0; k < pairs.length - 1; k++) {
            repeated[2 * k] = pairs[k];
            repeated[2 * k + 1] = pairs[k];
        }
        int prkLength = repeated.length - 2;
        // plms: _timesteps[:-3][::-1]
        int plmsLength = n - 3;
        double[] out = new double[prkLength + plmsLength];
        for (int i = 0; i < prkLength; i++) {
            out[i] = repeated[repeated.length - 2 - i];
        }
        for (int i = 0; i < plmsLength; i++) {
            out[prkLength + i] = asc[plmsLength - 1 - i];
        }
        return out;
    }

    /** The {@code num_inference_steps} a plan of this sampler was made for, checked against its timesteps. */
    static int inferenceSteps(SamplerPlan plan) {
        SchedulerConfig config = plan.config();
        int calls = plan.timesteps().length;
        boolean skipPrk = config.getBoolean("skip_prk_steps", false);
        int steps = skipPrk ? (calls == 1 ? 1 : calls - 1) : calls - 3 * PNDM_ORDER + 3;
        if (steps < 1 || !Arrays.equals(timesteps(config, steps), plan.timesteps())) {
            throw new IllegalArgumentException("the plan's timesteps are not PLMS timesteps for its config; "
                    + "make the plan with PndmSampler.plan");
        }
        return steps;
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int calls = plan.checkStartStep(startStep);
        Stepper stepper = new Stepper(plan);
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        for (int i = startStep; i < calls; i++) {
            int t = (int) timesteps[i];
            float[] out = model.predict(x, t); // scale_model_input is the identity
            x = stepper.step(out, t, x);
            p.step(i + 1, calls);
        }
        return x;
    }

    /** diffusers' {@code add_noise}: {@code sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) noise} at the start step's timestep. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        int t = (int) plan.timesteps()[startStep];
        return Alphas.addNoise(original, noise, plan.config().alphasCumprod()[t]);
    }

    /**
     * The state of one diffusers {@code PNDMScheduler} after {@code set_timesteps}: {@code counter},
     * {@code ets}, {@code cur_sample}, {@code cur_model_output}. {@link #step} is diffusers'
     * {@code step}, returning a new array and never changing its arguments.
     */
    static final class Stepper {
        private final float[] alphasCumprod;
        private final float finalAlphaCumprod;
        private final boolean skipPrk;
        private final boolean vPrediction;
        private final int numTrain;
        private final int steps;
        private final double[] prkTimesteps;
        private final List<float[]> ets = new ArrayList<>();
        private float[] curModelOutput; // null: the int 0 diffusers starts from
        private float[] curSample;
        private int counter;

        Stepper(SamplerPlan plan) {
            SchedulerConfig config = plan.config();
            this.alphasCumprod = config.alphasCumprod();
            this.finalAlphaCumprod = config.getBoolean("set_alpha_to_one", false) ? 1f : alphasCumprod[0];
            this.skipPrk = config.getBoolean("skip_prk_steps", false);
            this.vPrediction = config.predictionType() == PredictionType.V_PREDICTION;
            this.numTrain = config.numTrainTimesteps();
            this.steps = inferenceSteps(plan);
            this.prkTimesteps = skipPrk ? new double[0]
                    : Arrays.copyOf(plan.timesteps(), 3 * PNDM_ORDER);
        }

        int counter() {
            return counter;
        }

        float[] step(float[] modelOutput, int timestep, float[] sample) {
            if (modelOutput.length != sample.length) {
                throw new IllegalStateException("model returned " + modelOutput.length + " values for "
                        + sample.length + " latents");
            }
            if (counter < prkTimesteps.length && !skipPrk) {
                return stepPrk(modelOutput.clone(), timestep, sample);
            }
            return stepPlms(modelOutput.clone(), timestep, sample);
        }

        /** {@code step_prk}: one quarter of a Runge-Kutta step, chosen by {@code counter % 4}. */
        private float[] stepPrk(float[] modelOutput, int timestep, float[] sample) {
            int diffToPrev = counter % 2 != 0 ? 0 : numTrain / steps / 2;
            int prevTimestep = timestep - diffToPrev;
            int t = (int) prkTimesteps[counter / 4 * 4];
            int n = modelOutput.length;
            float[] output = modelOutput;
            switch (counter % 4) {
                case 0: {
                    float[] acc = new float[n];
                    for (int j = 0; j < n; j++) {
                        acc[j] = (curModelOutput == null ? 0f : curModelOutput[j]) + ONE_SIXTH * modelOutput[j];
                    }
                    curModelOutput = acc;
                    ets.add(modelOutput);
                    curSample = sample;
                    break;
                }
                case 1:
                case 2:
                    for (int j = 0; j < n; j++) {
                        curModelOutput[j] = curModelOutput[j] + ONE_THIRD * modelOutput[j];
                    }
                    break;
                default: {
                    output = new float[n];
                    for (int j = 0; j < n; j++) {
                        output[j] = curModelOutput[j] + ONE_SIXTH * modelOutput[j];
                    }
                    curModelOutput = null;
                    break;
                }
            }
            float[] from = curSample != null ? curSample : sample;
            float[] prev = prevSample(from, t, prevTimestep, output);
            counter++;
            return prev;
        }

        /** {@code step_plms}: a linear multistep (Adams-Bashforth) step on the stored outputs. */
        float[] stepPlms(float[] modelOutput, int timestep, float[] sample) {
            if (!skipPrk && ets.size() < 3) {
                throw new IllegalStateException("PLMS steps need the 3 Runge-Kutta outputs of the first 12 calls");
            }
            int ratio = numTrain / steps;
            int prevTimestep = timestep - ratio;
            int t = timestep;
            if (counter != 1) {
                while (ets.size() > 3) {
                    ets.remove(0);
                }
                ets.add(modelOutput);
            } else {
                prevTimestep = timestep;
                t = timestep + ratio;
            }
            int n = modelOutput.length;
            int size = ets.size();
            float[] output;
            float[] from = sample;
            if (size == 1 && counter == 0) {
                output = modelOutput;
                curSample = sample;
            } else if (size == 1 && counter == 1) {
                float[] e1 = ets.get(0);
                output = new float[n];
                for (int j = 0; j < n; j++) {
                    output[j] = (modelOutput[j] + e1[j]) / 2f;
                }
                from = curSample;
                curSample = null;
            } else if (size == 2) {
                float[] e1 = ets.get(1);
                float[] e2 = ets.get(0);
                output = new float[n];
                for (int j = 0; j < n; j++) {
                    output[j] = (3f * e1[j] - e2[j]) / 2f;
                }
            } else if (size == 3) {
                float[] e1 = ets.get(2);
                float[] e2 = ets.get(1);
                float[] e3 = ets.get(0);
                output = new float[n];
                for (int j = 0; j < n; j++) {
                    output[j] = (23f * e1[j] - 16f * e2[j] + 5f * e3[j]) / 12f;
                }
            } else {
                float[] e1 = ets.get(size - 1);
                float[] e2 = ets.get(size - 2);
                float[] e3 = ets.get(size - 3);
                float[] e4 = ets.get(size - 4);
                output = new float[n];
                for (int j = 0; j < n; j++) {
                    output[j] = ONE_24TH * (55f * e1[j] - 59f * e2[j] + 37f * e3[j] - 9f * e4[j]);
                }
            }
            float[] prev = prevSample(from, t, prevTimestep, output);
            counter++;
            return prev;
        }

        /**
         * {@code _get_prev_sample}: formula (9) of the PNDM paper,
         * {@code sqrt(ᾱ_prev / ᾱ_t) x - (ᾱ_prev - ᾱ_t) e / (ᾱ_t sqrt(1 - ᾱ_prev) + sqrt(ᾱ_t (1 - ᾱ_t) ᾱ_prev))},
         * with a v output turned into epsilon first. float32 as on diffusers' tensors.
         */
        float[] prevSample(float[] sample, int timestep, int prevTimestep, float[] modelOutput) {
            if (timestep < 0 || timestep >= alphasCumprod.length) {
                throw new IllegalStateException("timestep " + timestep + " is outside 0.." + (alphasCumprod.length - 1));
            }
            float alphaProdT = alphasCumprod[timestep];
            float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
            float betaProdT = 1f - alphaProdT;
            float betaProdTPrev = 1f - alphaProdTPrev;
            int n = sample.length;
            float[] eps = modelOutput;
            if (vPrediction) {
                float sa = (float) Math.sqrt(alphaProdT);
                float sb = (float) Math.sqrt(betaProdT);
                eps = new float[n];
                for (int j = 0; j < n; j++) {
                    eps[j] = sa * modelOutput[j] + sb * sample[j];
                }
            }
            float sampleCoeff = (float) Math.sqrt(alphaProdTPrev / alphaProdT);
            float denom = alphaProdT * (float) Math.sqrt(betaProdTPrev)
                    + (float) Math.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
            float diff = alphaProdTPrev - alphaProdT;
            float[] prev = new float[n];
            for (int j = 0; j < n; j++) {
                prev[j] = sampleCoeff * sample[j] - diff * eps[j] / denom;
            }
            return prev;
        }
    }
}
