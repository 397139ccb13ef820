package io.jdiffusion.samplers.pndm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.PredictionType;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.samplers.testkit.DiffusersFixtures;
import io.jdiffusion.samplers.testkit.GaussianWorld;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * PLMS with {@code skip_prk_steps} (Stable Diffusion's setting), which diffusers' tests do not
 * cover: timesteps from the definition, the loop against an independent double-precision
 * re-implementation of CompVis' PLMS sampler (latent-diffusion ldm/models/diffusion/plms.py,
 * {@code p_sample_plms}, the sampler diffusers' skip_prk_steps mode is modelled on), and
 * convergence to the exact probability-flow solution of a Gaussian data distribution.
 */
class PndmSamplerTest {
    private final PndmSampler sampler = new PndmSampler();

    @Test
    void sd15TwentyStepsRepeatTheSecondToLastTimestep() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, SamplerSettings.DEFAULT);
        // leading: arange(20) * 50 + 1 = 1, 51, ..., 951; PLMS order [951, 901, 901, 851, ..., 1]
        double[] expected = new double[21];
        expected[0] = 951;
        expected[1] = 901;
        for (int k = 2; k < 21; k++) {
            expected[k] = 951 - 50 * (k - 1);
        }
        assertArrayEquals(expected, plan.timesteps());
        assertEquals(901.0, plan.timesteps()[1]);
        assertEquals(901.0, plan.timesteps()[2]);
        assertEquals(1.0, plan.timesteps()[20]);
        assertNull(plan.sigmas());
        assertEquals(1.0, plan.initNoiseSigma());
        assertEquals(1, plan.order());
        assertFalse(sampler.acceptsSchedule());
        assertTrue(sampler.parameters().isEmpty());
    }

    @Test
    void fewStepsAndOtherSpacings() {
        SchedulerConfig sd = SchedulerConfig.sd15();
        assertArrayEquals(new double[] {1}, sampler.plan(sd, 1, null).timesteps());
        assertArrayEquals(new double[] {501, 1, 1}, sampler.plan(sd, 2, null).timesteps());
        // linspace: np.linspace(0, 999, 4).round() = 0, 333, 666, 999
        assertArrayEquals(new double[] {999, 666, 666, 333, 0},
                sampler.plan(sd.with("timestep_spacing", "linspace"), 4, null).timesteps());
        // trailing: round(arange(1000, 0, -250)) - 1 = 999, 749, 499, 249
        assertArrayEquals(new double[] {999, 749, 749, 499, 249},
                sampler.plan(sd.with("timestep_spacing", "trailing"), 4, null).timesteps());
        assertThrows(IllegalArgumentException.class, () -> sampler.plan(sd, 1001, null));
        assertThrows(IllegalArgumentException.class,
                () -> sampler.plan(sd.with("prediction_type", "sample"), 20, null));
    }

    @Test
    void matchesCompVisPlmsInDouble() {
        // epsilon only: with v_prediction diffusers combines the raw v outputs and turns the combination
        // into epsilon with the current sample, which is not CompVis' algorithm (checked by convergence below)
        for (String prediction : new String[] {"epsilon"}) {
            SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", prediction);
            int steps = 20;
            SamplerPlan plan = sampler.plan(cfg, steps, null);
            float[] x = new float[64];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(1.7 * i + 0.3) * 1.5f;
            }
            Denoiser model = new Denoiser() {
                @Override
                public float[] predict(float[] in, double t) {
                    return DiffusersFixtures.dummyModel(in, t);
                }

                @Override
                public int[] latentShape() {
                    return new int[] {1, 64};
                }
            };
            float[] got = sampler.sample(model, x, plan, 0, null, null);

            float[] ac = cfg.alphasCumprod();
            boolean v = prediction.equals("v_prediction");
            // epsilon as the model gives it (v turned into epsilon with the current sample)
            BiFunction<double[], Integer, double[]> eps = (in, t) -> {
                double[] out = new double[in.length];
                double a = ac[t];
                for (int i = 0; i < in.length; i++) {
                    double o = in[i] * t / (t + 1.0);
                    out[i] = v ? Math.sqrt(a) * o + Math.sqrt(1 - a) * in[i] : o;
                }
                return out;
            };
            double[] ref = compvisPlms(toDouble(x), ddimTimesteps(steps), ac, eps);
            for (int i = 0; i < x.length; i++) {
                assertEquals(ref[i], got[i], 2e-5 * Math.max(1, Math.abs(ref[i])), prediction + " [" + i + "]");
            }
        }
    }

    /** CompVis' make_ddim_timesteps (uniform, c = 1000 // steps, + 1), largest first. */
    private static int[] ddimTimesteps(int steps) {
        int c = 1000 / steps;
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            out[steps - 1 - i] = i * c + 1;
        }
        return out;
    }

    /**
     * ldm's PLMSSampler.plms_sampling / p_sample_plms (eta 0), in double: a pseudo improved Euler
     * first step (two model calls), then Adams-Bashforth on the stored epsilons; the DDIM update
     * {@code sqrt(a_prev) x0 + sqrt(1 - a_prev) e} with {@code a_prev = alphas_cumprod[0]} after the last step.
     */
    private static double[] compvisPlms(double[] x, int[] ts, float[] ac, BiFunction<double[], Integer, double[]> model) {
        List<double[]> oldEps = new ArrayList<>();
        for (int i = 0; i < ts.length; i++) {
            int t = ts[i];
            double a = ac[t];
            double aPrev = i + 1 < ts.length ? ac[ts[i + 1]] : ac[0];
            double[] e = model.apply(x, t);
            double[] ePrime = new double[x.length];
            if (oldEps.isEmpty()) {
                double[] xPrev = ddim(x, e, a, aPrev);
                double[] eNext = model.apply(xPrev, ts[Math.min(i + 1, ts.length - 1)]);
                for (int j = 0; j < x.length; j++) {
                    ePrime[j] = (e[j] + eNext[j]) / 2;
                }
            } else if (oldEps.size() == 1) {
                double[] e1 = oldEps.get(0);
                for (int j = 0; j < x.length; j++) {
                    ePrime[j] = (3 * e[j] - e1[j]) / 2;
                }
            } else if (oldEps.size() == 2) {
                double[] e1 = oldEps.get(1);
                double[] e2 = oldEps.get(0);
                for (int j = 0; j < x.length; j++) {
                    ePrime[j] = (23 * e[j] - 16 * e1[j] + 5 * e2[j]) / 12;
                }
            } else {
                int k = oldEps.size();
                double[] e1 = oldEps.get(k - 1);
                double[] e2 = oldEps.get(k - 2);
                double[] e3 = oldEps.get(k - 3);
                for (int j = 0; j < x.length; j++) {
                    ePrime[j] = (55 * e[j] - 59 * e1[j] + 37 * e2[j] - 9 * e3[j]) / 24;
                }
            }
            x = ddim(x, ePrime, a, aPrev);
            oldEps.add(e);
        }
        return x;
    }

    private static double[] ddim(double[] x, double[] e, double a, double aPrev) {
        double[] out = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            double x0 = (x[j] - Math.sqrt(1 - a) * e[j]) / Math.sqrt(a);
            out[j] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * e[j];
        }
        return out;
    }

    private static double[] toDouble(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    @Test
    void convergesToTheExactFlowOfAGaussian() {
        for (PredictionType type : new PredictionType[] {PredictionType.EPSILON, PredictionType.V_PREDICTION}) {
            convergesToTheExactFlowOfAGaussian(type);
        }
    }

    private void convergesToTheExactFlowOfAGaussian(PredictionType type) {
        SchedulerConfig cfg = SchedulerConfig.sd15().with("prediction_type", type.configName());
        GaussianWorld world = new GaussianWorld(0.5, 0.8, cfg.alphasCumprod());
        float[] ac = cfg.alphasCumprod();
        double[] errors = new double[4];
        int[] stepCounts = {10, 20, 40, 80};
        for (int k = 0; k < stepCounts.length; k++) {
            int steps = stepCounts[k];
            SamplerPlan plan = sampler.plan(cfg, steps, null);
            float[] x = new float[16];
            for (int i = 0; i < x.length; i++) {
                x[i] = -3f + 6f * i / (x.length - 1);
            }
            float[] got = sampler.sample(world.model(type, x.length), x, plan, 0, null, null);
            // exact: from the first timestep's alpha to alphas_cumprod[0] (set_alpha_to_one false)
            double aStart = ac[(int) plan.timesteps()[0]];
            double err = 0;
            for (int i = 0; i < x.length; i++) {
                err = Math.max(err, Math.abs(got[i] - world.flowAlphas(x[i], aStart, ac[0])));
            }
            errors[k] = err;
        }
        String what = type + " max error at 10/20/40/80 steps: " + java.util.Arrays.toString(errors);
        if (type == PredictionType.EPSILON) {
            // each doubling of the steps cuts the error by more than 2, by about 8 once the
            // multistep part dominates (0.0316, 0.0128, 0.0039, 0.00048)
            for (int k = 1; k < errors.length; k++) {
                assertTrue(errors[k] < errors[k - 1] / 2, what);
            }
            assertTrue(errors[3] < 1e-3, what);
        } else {
            // diffusers' PNDM combines the raw v outputs of several timesteps and only then turns the
            // combination into epsilon with the current sample, which is consistent to first order
            // only: the error halves per doubling (0.33, 0.175, 0.090, 0.044). Mirrored as diffusers has it.
            for (int k = 1; k < errors.length; k++) {
                assertTrue(errors[k] < errors[k - 1] / 1.8, what);
            }
            assertTrue(errors[3] < 0.06, what);
        }
    }

    @Test
    void addNoiseIsAlphaForm() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 20, null);
        float a = SchedulerConfig.sd15().alphasCumprod()[(int) plan.timesteps()[4]];
        float[] noisy = sampler.addNoise(new float[] {1f, -2f}, new float[] {0.5f, 0.25f}, plan, 4);
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        assertArrayEquals(new float[] {sa * 1f + sb * 0.5f, sa * -2f + sb * 0.25f}, noisy);
    }

    @Test
    void callsTheModelOncePerTimestepAndReportsProgress() {
        SamplerPlan plan = sampler.plan(SchedulerConfig.sd15(), 4, null); // 751, 501, 501, 251, 1
        float[] x = {1f, 2f};
        List<String> reports = new ArrayList<>();
        List<Double> seen = new ArrayList<>();
        Denoiser model = new Denoiser() {
            @Override
            public float[] predict(float[] modelInput, double timestep) {
                seen.add(timestep);
                return new float[] {0.1f, 0.2f};
            }

            @Override
            public int[] latentShape() {
                return new int[] {1, 2};
            }
        };
        sampler.sample(model, x, plan, 0, null, (done, total) -> reports.add(done + "/" + total));
        assertEquals(List.of(751.0, 501.0, 501.0, 251.0, 1.0), seen);
        assertEquals(List.of("1/5", "2/5", "3/5", "4/5", "5/5"), reports);
        assertArrayEquals(new float[] {1f, 2f}, x);
    }

    @Test
    void refusesAPlanItDidNotMake() {
        SamplerPlan other = new SamplerPlan(new double[] {900, 500, 1}, null, 1.0, 1, SchedulerConfig.sd15(),
                SamplerSettings.DEFAULT);
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(
                DiffusersFixtures.dummyDenoiser(), new float[] {1f}, other, 0, null, null));
    }

    @Test
    void isADeclarativeServicesComponentNamedPndm() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/io.jdiffusion.samplers.pndm.PndmSampler.xml")) {
            assertNotNull(in, "bnd wrote the component description");
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"pndm\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"PLMS\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.Sampler\"/>"), xml);
        }
    }
}
