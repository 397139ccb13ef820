package io.jdiffusion.samplers.unipc;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.DpmSolverMultistep;
import io.jdiffusion.api.DynamicThresholding;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * UniPC (Zhao et al. 2023), exactly as diffusers' {@code UniPCMultistepScheduler}: the
 * predictor-corrector UniP/UniC with the B(h) variants {@code bh1} / {@code bh2} (default),
 * {@code solver_order} 2 by default, data prediction ({@code predict_x0}, default true),
 * {@code lower_order_final}, {@code disable_corrector}; integer timesteps and float32 sigmas as
 * its {@code set_timesteps} (default spacing {@code linspace}, Karras/exponential when asked),
 * {@code init_noise_sigma} 1 and no input scaling. Arithmetic is float32 in diffusers' order; the
 * small linear systems of orders above 2 are solved in float32 by LU with partial pivoting, as
 * LAPACK's {@code sgesv} behind {@code torch.linalg.solve} does.
 *
 * <p>Config keys read: betas, {@code prediction_type}, {@code timestep_spacing}, {@code steps_offset},
 * {@code use_karras_sigmas}, {@code use_exponential_sigmas}, {@code sigma_min}, {@code sigma_max},
 * {@code final_sigmas_type}, {@code solver_type}, {@code predict_x0}, {@code lower_order_final},
 * {@code disable_corrector}, {@code thresholding} and its keys, {@code rescale_betas_zero_snr}. The
 * order is the {@code solver_order} parameter (default 2).
 */
@Component(service = Sampler.class, property = {Plugin.NAME + "=unipc", Plugin.LABEL + "=UniPC"})
public class UniPcSampler implements Sampler {
    public static final String SOLVER_ORDER = "solver_order";

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(SOLVER_ORDER, 2, 1, 3,
                    "Order of the UniP predictor (the corrector adds one): 2 is diffusers' default, 3 for "
                            + "unconditional sampling"));

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
        return DpmSolverMultistep.plan(config, steps, settings, DpmSolverMultistep.PlanStyle.UNIPC);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] timesteps = plan.timesteps();
        int steps = plan.checkStartStep(startStep);
        Stepper stepper = new Stepper(plan, DynamicThresholding.rows(model, latents.length));
        Progress p = progress == null ? Progress.NONE : progress;
        float[] x = latents.clone();
        for (int i = startStep; i < steps; i++) {
            // scale_model_input is the identity for this scheduler
            float[] out = model.predict(x, timesteps[i]);
            x = stepper.step(out, i, x);
            p.step(i + 1, steps);
        }
        return x;
    }

    /** diffusers' {@code add_noise}: {@code alpha_t * x0 + sigma_t * noise} at the start step's sigma. */
    @Override
    public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
        return DpmSolverMultistep.addNoise(original, noise, plan, startStep);
    }

    /** The state of one run: diffusers' {@code step} with its {@code model_outputs} and {@code last_sample}. */
    static final class Stepper {
        private final double[] sigmas;
        private final int steps;
        private final int solverOrder;
        private final boolean bh2;
        private final boolean predictX0;
        private final boolean lowerOrderFinal;
        private final Set<Integer> disableCorrector;
        private final PredictionType prediction;
        private final DynamicThresholding thresholding;
        private final int rows;
        private final float[][] modelOutputs;
        private float[] lastSample;
        private int lowerOrderNums;
        private int thisOrder;

        Stepper(SamplerPlan plan, int rows) {
            SchedulerConfig config = plan.config();
            SamplerSettings settings = plan.settings() == null ? SamplerSettings.DEFAULT : plan.settings();
            this.sigmas = plan.sigmas();
            this.steps = plan.steps();
            this.solverOrder = (int) settings.param(SOLVER_ORDER, 2);
            if (solverOrder < 1 || solverOrder > 3) {
                throw new IllegalArgumentException("solver_order must be 1, 2 or 3, not " + solverOrder);
            }
            String type = config.getString("solver_type", "bh2");
            switch (type) {
                case "bh1":
                    bh2 = false;
                    break;
                case "bh2":
                case "midpoint":
                case "heun":
                case "logrho":
                    bh2 = true; // diffusers maps the other schedulers' solver types to bh2
                    break;
                default:
                    throw new IllegalArgumentException("scheduler_config.json: solver_type must be bh1 or bh2, not "
                            + type);
            }
            this.predictX0 = config.getBoolean("predict_x0", true);
            this.lowerOrderFinal = config.getBoolean("lower_order_final", true);
            this.disableCorrector = new HashSet<>();
            Object disabled = config.values().get("disable_corrector");
            if (disabled instanceof List<?> list) {
                for (Object o : list) {
                    disableCorrector.add(((Number) o).intValue());
                }
            }
            this.prediction = config.predictionType();
            this.thresholding = DynamicThresholding.of(config);
            this.rows = Math.max(1, rows);
            this.modelOutputs = new float[solverOrder][];
        }

        /** {@code step(model_output, timesteps[i], sample)}: returns {@code prev_sample}. */
        float[] step(float[] modelOutput, int i, float[] sample) {
            boolean useCorrector = i > 0 && !disableCorrector.contains(i - 1) && lastSample != null;
            float[] converted = convert(modelOutput, i, sample);
            float[] x = sample;
            if (useCorrector) {
                x = corrector(converted, i, lastSample, sample, thisOrder);
            }
            for (int k = 0; k < solverOrder - 1; k++) {
                modelOutputs[k] = modelOutputs[k + 1];
            }
            modelOutputs[solverOrder - 1] = converted;
            int order = lowerOrderFinal ? Math.min(solverOrder, steps - i) : solverOrder;
            thisOrder = Math.min(order, lowerOrderNums + 1); // warm-up for multistep
            lastSample = x;
            float[] prev = predictor(i, x, thisOrder);
            if (lowerOrderNums < solverOrder) {
                lowerOrderNums++;
            }
            return prev;
        }

        /** {@code convert_model_output}: x0 (predict_x0) or epsilon, from the model output at step i. */
        private float[] convert(float[] out, int i, float[] sample) {
            int n = sample.length;
            if (out.length != n) {
                throw new IllegalStateException("model returned " + out.length + " values for " + n + " latents");
            }
            float sigma = (float) sigmas[i];
            float alpha = DpmSolverMultistep.alphaT(sigma);
            float sigmaT = sigma * alpha;
            float[] r = new float[n];
            if (predictX0) {
                switch (prediction) {
                    case EPSILON:
                        for (int j = 0; j < n; j++) {
                            r[j] = (sample[j] - sigmaT * out[j]) / alpha;
                        }
                        break;
                    case SAMPLE:
                        System.arraycopy(out, 0, r, 0, n);
                        break;
                    case V_PREDICTION:
                        for (int j = 0; j < n; j++) {
                            r[j] = alpha * sample[j] - sigmaT * out[j];
                        }
                        break;
                    default:
                        throw new IllegalStateException("unknown prediction type " + prediction);
                }
                if (thresholding != null) {
                    thresholding.apply(r, rows);
                }
            } else {
                switch (prediction) {
                    case EPSILON:
                        System.arraycopy(out, 0, r, 0, n);
                        break;
                    case SAMPLE:
                        for (int j = 0; j < n; j++) {
                            r[j] = (sample[j] - alpha * out[j]) / sigmaT;
                        }
                        break;
                    case V_PREDICTION:
                        for (int j = 0; j < n; j++) {
                            r[j] = alpha * out[j] + sigmaT * sample[j];
                        }
                        break;
                    default:
                        throw new IllegalStateException("unknown prediction type " + prediction);
                }
            }
            return r;
        }

        /** The B(h) coefficients: {@code hh}, {@code h_phi_1}, {@code B_h} and the vector {@code b}. */
        private float[] bVector(float hh, float hPhi1, float bh, int order) {
            float hPhiK = hPhi1 / hh - 1f;
            int factorial = 1;
            float[] b = new float[order];
            for (int k = 1; k <= order; k++) {
                b[k - 1] = hPhiK * factorial / bh;
                factorial *= k + 1;
                hPhiK = hPhiK / hh - (float) (1.0 / factorial);
            }
            return b;
        }

        /** {@code multistep_uni_p_bh_update}. */
        private float[] predictor(int i, float[] x, int order) {
            float[] m0 = modelOutputs[solverOrder - 1];
            float sT = (float) sigmas[i + 1];
            float sS0 = (float) sigmas[i];
            float alphaT = DpmSolverMultistep.alphaT(sT);
            float sigmaT = sT * alphaT;
            float alphaS0 = DpmSolverMultistep.alphaT(sS0);
            float sigmaS0 = sS0 * alphaS0;
            float lambdaT = (float) Math.log(alphaT) - (float) Math.log(sigmaT);
            float lambdaS0 = (float) Math.log(alphaS0) - (float) Math.log(sigmaS0);
            float h = lambdaT - lambdaS0;
            int n = x.length;

            float[] rks = new float[order];
            float[][] d1s = new float[order - 1][];
            for (int k = 1; k < order; k++) {
                float[] mi = modelOutputs[solverOrder - 1 - k];
                float lambdaSi = DpmSolverMultistep.lambda((float) sigmas[i - k]);
                float rk = (lambdaSi - lambdaS0) / h;
                rks[k - 1] = rk;
                float[] d = new float[n];
                for (int j = 0; j < n; j++) {
                    d[j] = (mi[j] - m0[j]) / rk;
                }
                d1s[k - 1] = d;
            }
            rks[order - 1] = 1f;
            float hh = predictX0 ? -h : h;
            float hPhi1 = (float) Math.expm1(hh);
            float bh = bh2 ? (float) Math.expm1(hh) : hh;
            float[] b = bVector(hh, hPhi1, bh, order);

            float[] rhosP = null;
            if (order >= 2) {
                rhosP = order == 2 ? new float[] {0.5f} : solve(rMatrix(rks, order - 1), java.util.Arrays.copyOf(b, order - 1));
            }
            float c1 = predictX0 ? sigmaT / sigmaS0 : alphaT / alphaS0;
            float c2 = (predictX0 ? alphaT : sigmaT) * hPhi1;
            float c3 = (predictX0 ? alphaT : sigmaT) * bh;
            float[] out = new float[n];
            for (int j = 0; j < n; j++) {
                float xt = c1 * x[j] - c2 * m0[j];
                if (rhosP != null) {
                    float res = rhosP[0] * d1s[0][j];
                    for (int k = 1; k < rhosP.length; k++) {
                        res += rhosP[k] * d1s[k][j];
                    }
                    xt = xt - c3 * res;
                }
                out[j] = xt;
            }
            return out;
        }

        /** {@code multistep_uni_c_bh_update}: corrects {@code thisSample} (x_t) with the model output there. */
        private float[] corrector(float[] modelT, int i, float[] last, float[] thisSample, int order) {
            float[] m0 = modelOutputs[solverOrder - 1];
            float sT = (float) sigmas[i];
            float sS0 = (float) sigmas[i - 1];
            float alphaT = DpmSolverMultistep.alphaT(sT);
            float sigmaT = sT * alphaT;
            float alphaS0 = DpmSolverMultistep.alphaT(sS0);
            float sigmaS0 = sS0 * alphaS0;
            float lambdaT = (float) Math.log(alphaT) - (float) Math.log(sigmaT);
            float lambdaS0 = (float) Math.log(alphaS0) - (float) Math.log(sigmaS0);
            float h = lambdaT - lambdaS0;
            int n = thisSample.length;

            float[] rks = new float[order];
            float[][] d1s = new float[order - 1][];
            for (int k = 1; k < order; k++) {
                float[] mi = modelOutputs[solverOrder - 1 - k];
                float lambdaSi = DpmSolverMultistep.lambda((float) sigmas[i - (k + 1)]);
                float rk = (lambdaSi - lambdaS0) / h;
                rks[k - 1] = rk;
                float[] d = new float[n];
                for (int j = 0; j < n; j++) {
                    d[j] = (mi[j] - m0[j]) / rk;
                }
                d1s[k - 1] = d;
            }
            rks[order - 1] = 1f;
            float hh = predictX0 ? -h : h;
            float hPhi1 = (float) Math.expm1(hh);
            float bh = bh2 ? (float) Math.expm1(hh) : hh;
            float[] b = bVector(hh, hPhi1, bh, order);
            float[] rhosC = order == 1 ? new float[] {0.5f} : solve(rMatrix(rks, order), b);

            float c1 = predictX0 ? sigmaT / sigmaS0 : alphaT / alphaS0;
            float c2 = (predictX0 ? alphaT : sigmaT) * hPhi1;
            float c3 = (predictX0 ? alphaT : sigmaT) * bh;
            float rhoLast = rhosC[order - 1];
            float[] out = new float[n];
            for (int j = 0; j < n; j++) {
                float xt = c1 * last[j] - c2 * m0[j];
                float corr = 0f;
                if (order > 1) {
                    corr = rhosC[0] * d1s[0][j];
                    for (int k = 1; k < order - 1; k++) {
                        corr += rhosC[k] * d1s[k][j];
                    }
                }
                float d1t = modelT[j] - m0[j];
                out[j] = xt - c3 * (corr + rhoLast * d1t);
            }
            return out;
        }
    }

    /** {@code torch.stack([rks ** 0, rks ** 1, ...])[:size, :size]}: row k holds {@code rks^k}. */
    static float[][] rMatrix(float[] rks, int size) {
        float[][] r = new float[size][size];
        for (int k = 0; k < size; k++) {
            for (int j = 0; j < size; j++) {
                r[k][j] = k == 0 ? 1f : (k == 1 ? rks[j] : rks[j] * rks[j]);
            }
        }
        return r;
    }

    /**
     * {@code torch.linalg.solve(a, b)} in float32: LU with partial pivoting (LAPACK {@code sgetrf}: the
     * column below the pivot scaled by the pivot's reciprocal), then forward and back substitution
     * ({@code sgetrs}).
     */
    static float[] solve(float[][] a0, float[] b0) {
        int n = b0.length;
        float[][] a = new float[n][];
        for (int i = 0; i < n; i++) {
            a[i] = a0[i].clone();
        }
        float[] b = b0.clone();
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
                    piv = r;
                }
            }
            if (piv != col) {
                float[] t = a[piv];
                a[piv] = a[col];
                a[col] = t;
                float tb = b[piv];
                b[piv] = b[col];
                b[col] = tb;
            }
            if (a[col][col] == 0f) {
                throw new ArithmeticException("singular UniPC system");
            }
            float inv = 1f / a[col][col];
            for (int r = col + 1; r < n; r++) {
                a[r][col] = a[r][col] * inv;
            }
            for (int r = col + 1; r < n; r++) {
                for (int c = col + 1; c < n; c++) {
                    a[r][c] = a[r][c] - a[r][col] * a[col][c];
                }
            }
        }
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < r; c++) {
                b[r] = b[r] - a[r][c] * b[c];
            }
        }
        for (int r = n - 1; r >= 0; r--) {
            b[r] = b[r] / a[r][r];
            for (int c = 0; c < r; c++) {
                b[c] = b[c] - b[r] * a[c][r];
            }
        }
        return b;
    }
}
