package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.samplers.ddim.DdimSampler;
import io.jdiffusion.samplers.euler.EulerSampler;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplerTraceTest {
    private static double lastSum(String report) {
        String last = report.substring(report.lastIndexOf('\n') + 1);
        assertTrue(last.matches("sum=\\S+ mean=\\S+"), last);
        return Double.parseDouble(last.substring(4, last.indexOf(' ')));
    }

    /**
     * DDIM (eta 0) on SD 1.5's config, recomputed here in double precision from the formulas of
     * diffusers' scheduling_ddim.py (leading spacing, steps_offset 1, final alpha = alphas_cumprod[0]).
     */
    @Test
    void ddimTraceMatchesAnIndependentDoublePrecisionDdim() {
        int steps = 10;
        double[] ac = new double[1000];
        double prod = 1;
        double a = Math.sqrt(0.00085);
        double b = Math.sqrt(0.012);
        for (int i = 0; i < 1000; i++) {
            double beta = Math.pow(a + (b - a) * i / 999.0, 2);
            prod *= 1 - beta;
            ac[i] = prod;
        }
        float[] x0 = SamplerTrace.dummySampleDeter();
        double[] x = new double[x0.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = x0[i];
        }
        int ratio = 1000 / steps;
        for (int i = 0; i < steps; i++) {
            int t = (steps - 1 - i) * ratio + 1;
            int prev = t - ratio;
            double at = ac[t];
            double ap = prev >= 0 ? ac[prev] : ac[0];
            for (int k = 0; k < x.length; k++) {
                double eps = x[k] * t / (t + 1.0);
                double pred = (x[k] - Math.sqrt(1 - at) * eps) / Math.sqrt(at);
                x[k] = Math.sqrt(ap) * pred + Math.sqrt(1 - ap) * eps;
            }
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.abs(v);
        }
        String report = SamplerTrace.run(new DdimSampler(), "ddim", null, null, "epsilon", steps, 0, Map.of());
        assertEquals(sum, lastSum(report), sum * 2e-4, report);
    }

    @Test
    void traceIsTheSamplerRunOnTheDummyModel() {
        String report = SamplerTrace.run(new EulerSampler(), "euler", null, null, "epsilon", 10, 0, Map.of());
        assertTrue(report.contains("init_noise_sigma="), report);
        double sum = lastSum(report);
        assertTrue(sum > 0 && Double.isFinite(sum), report);
        // deterministic: same again
        assertEquals(report, SamplerTrace.run(new EulerSampler(), "euler", null, null, "epsilon", 10, 0, Map.of()));
    }
}
