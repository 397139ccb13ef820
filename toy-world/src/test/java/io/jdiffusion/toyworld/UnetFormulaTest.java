package io.jdiffusion.toyworld;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The UNet graph against the Bayes-optimal denoiser written out in plain Java (templates materialised, double). */
class UnetFormulaTest {
    static final double ALPHA = UnetModel.ALPHA;

    /** Signed distance-like function of each shape at (x, y), y down; negative inside. */
    static double sdf(String shape, double x, double y) {
        double ax = Math.abs(x), ay = Math.abs(y);
        switch (shape) {
            case "circle": return Math.hypot(x, y) - 0.6;
            case "square": return Math.max(ax, ay) - 0.5;
            case "diamond": return (ax + ay - 0.7) / Math.sqrt(2);
            case "triangle": {
                double g = -1e9;
                for (double a : new double[] {90, 210, 330}) g = Math.max(g, n(a, x, y));
                return g - 0.35;
            }
            case "star": {
                double[] v = new double[5];
                double[] angles = {-18, 54, 126, 198, 270};
                for (int i = 0; i < 5; i++) v[i] = n(angles[i], x, y) - 0.75 * Math.cos(Math.toRadians(72));
                java.util.Arrays.sort(v);
                return v[3];
            }
            case "cross": return Math.min(Math.max(ax - 0.2, ay - 0.65), Math.max(ax - 0.65, ay - 0.2));
            case "hexagon": {
                double g = 0;
                for (double a : new double[] {0, 60, 120}) g = Math.max(g, Math.abs(n(a, x, y)));
                return g - 0.6;
            }
            default: throw new IllegalArgumentException(shape);
        }
    }

    static double n(double deg, double x, double y) {
        double a = Math.toRadians(deg);
        return Math.cos(a) * x + Math.sin(a) * y;
    }

    static double[][] masks(int h, int w) {
        double half = Math.min(h, w) / 2.0;
        double[][] m = new double[7][h * w];
        for (int s = 0; s < 7; s++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    double x = (j + 0.5 - w / 2.0) / half, y = (i + 0.5 - h / 2.0) / half;
                    double g = sdf(World.SHAPES.get(s), x, y);
                    m[s][i * w + j] = Math.max(0, Math.min(1, 0.5 - g * half));
                }
        return m;
    }

    /** x0 of every scene [K][4*N], scaled latents. */
    static double[][] templates(int h, int w) {
        double[][] m = masks(h, w);
        List<World.Scene> scenes = World.scenes();
        int n = h * w;
        double[][] x0 = new double[scenes.size()][4 * n];
        for (int k = 0; k < scenes.size(); k++) {
            World.Scene sc = scenes.get(k);
            double[] lf = ToyVae.scaledLatent(World.COLOURS.get(sc.fg())), lb = ToyVae.scaledLatent(World.COLOURS.get(sc.bg()));
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < n; p++) x0[k][c * n + p] = lb[c] + m[sc.shape()][p] * (lf[c] - lb[c]);
        }
        return x0;
    }

    static double sigma(double t) {
        float[] ac = NoiseSchedule.alphasCumprod();
        double tc = Math.max(0, Math.min(999, t));
        int lo = (int) Math.floor(tc), hi = (int) Math.ceil(tc);
        double slo = Math.sqrt((1 - ac[lo]) / ac[lo]), shi = Math.sqrt((1 - ac[hi]) / ac[hi]);
        return slo + (tc - lo) * (shi - slo);
    }

    /** eps (or v) for one batch item: x [4*N], text states [S][W]. */
    static double[] reference(float[] x, int off, double[][] x0, double t, float[] ehs, int ehsOff, int seq, int width, boolean v) {
        int len = x0[0].length;
        double sig = sigma(t), abar = 1 / (1 + sig * sig), sa = Math.sqrt(abar), s1a = Math.sqrt(1 - abar);
        List<World.Scene> scenes = World.scenes();
        double[] logit = new double[x0.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < x0.length; k++) {
            double d2 = 0;
            for (int i = 0; i < len; i++) {
                double r = x[off + i] - sa * x0[k][i];
                d2 += r * r;
            }
            World.Scene sc = scenes.get(k);
            double prior = 0;
            for (int tok = 0; tok < seq; tok++) {
                int base = ehsOff + tok * width;
                prior += ehs[base + TextFeatures.shapeDim(sc.shape())] + ehs[base + TextFeatures.fgDim(sc.fg())]
                        + ehs[base + TextFeatures.bgDim(sc.bg())];
            }
            logit[k] = -d2 / (2 * (1 - abar)) + ALPHA * prior;
            max = Math.max(max, logit[k]);
        }
        double z = 0;
        for (int k = 0; k < x0.length; k++) z += logit[k] = Math.exp(logit[k] - max);
        double[] e = new double[len];
        for (int k = 0; k < x0.length; k++) {
            double wk = logit[k] / z;
            if (wk == 0) continue;
            for (int i = 0; i < len; i++) e[i] += wk * x0[k][i];
        }
        double[] out = new double[len];
        for (int i = 0; i < len; i++) {
            double eps = (x[off + i] - sa * e[i]) / s1a;
            out[i] = v ? sa * eps - s1a * e[i] : eps;
        }
        return out;
    }

    static void assertClose(double[] want, float[] got, int off, double rel, String what) {
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < want.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(want[i]));
            maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[off + i]));
        }
        assertTrue(maxDiff <= rel * maxAbs, what + ": max diff " + maxDiff + " vs max " + maxAbs);
    }

    /** x_t = sqrt(abar) x0_k + sqrt(1 - abar) noise for a scene k. */
    static float[] noisy(double[][] x0, int k, double t, Random r) {
        double sig = sigma(t), abar = 1 / (1 + sig * sig);
        float[] x = new float[x0[k].length];
        for (int i = 0; i < x.length; i++) x[i] = (float) (Math.sqrt(abar) * x0[k][i] + Math.sqrt(1 - abar) * r.nextGaussian());
        return x;
    }

    void check(int h, int w, double t, String[] prompts, int sceneOfX, long seed) throws Exception {
        ToyFixture f = ToyFixture.get();
        double[][] x0 = templates(h, w);
        int b = prompts.length, len = 4 * h * w;
        float[] ehs = f.encode(prompts);
        float[] x = new float[b * len];
        Random r = new Random(seed);
        for (int i = 0; i < b; i++) System.arraycopy(noisy(x0, sceneOfX, t, r), 0, x, i * len, len);
        float[] out = f.unet(x, b, h, w, new float[] {(float) t}, ehs, 77);
        assertEquals(b * len, out.length);
        for (int i = 0; i < b; i++) {
            double[] want = reference(x, i * len, x0, t, ehs, i * 77 * f.width, 77, f.width, false);
            assertClose(want, out, i * len, 1e-3, h + "x" + w + " t=" + t + " '" + prompts[i] + "'");
        }
    }

    @Test
    void matchesPlainJavaAt64x64() throws Exception {
        String[] prompts = {"", "a red circle on a white background"};
        int scene = World.scenes().indexOf(new World.Scene(3, 4, 2)); // blue star on yellow
        check(64, 64, 500, prompts, scene, 1);
        check(64, 64, 951, prompts, scene, 2);
        check(64, 64, 980.5, prompts, scene, 3); // broad posterior, fractional t
    }

    @Test
    void matchesPlainJavaNonSquareAndClipped() throws Exception {
        String[] prompts = {"a cross", "a purple hexagon on a green background"};
        check(24, 40, 20.25, prompts, 17, 4);
        check(40, 24, 1500, prompts, 200, 5); // clipped to 999
        check(16, 16, 700, prompts, 391, 6);
    }

    @Test
    void lengthOneTimestepBroadcasts() throws Exception {
        ToyFixture f = ToyFixture.get();
        int h = 16, w = 24, len = 4 * h * w;
        float[] ehs = f.encode("", "a white diamond");
        float[] x = new float[2 * len];
        Random r = new Random(9);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] one = f.unet(x, 2, h, w, new float[] {321f}, ehs, 77);
        float[] two = f.unet(x, 2, h, w, new float[] {321f, 321f}, ehs, 77);
        assertArrayEquals(two, one, 0f);
    }

    @Test
    void denoisedLatentIsTheSceneAtLowNoise() throws Exception {
        // at t = 1 the posterior is certain: x0 = (x - sqrt(1-abar) eps) / sqrt(abar) is the template itself
        ToyFixture f = ToyFixture.get();
        int h = 32, w = 32;
        double[][] x0 = templates(h, w);
        int k = World.scenes().indexOf(new World.Scene(1, 6, 0)); // white square on red
        float[] x = noisy(x0, k, 1, new Random(11));
        float[] eps = f.unet(x, 1, h, w, new float[] {1f}, f.encode(""), 77);
        double sig = sigma(1), abar = 1 / (1 + sig * sig);
        double maxErr = 0;
        for (int i = 0; i < x.length; i++)
            maxErr = Math.max(maxErr, Math.abs((x[i] - Math.sqrt(1 - abar) * eps[i]) / Math.sqrt(abar) - x0[k][i]));
        assertTrue(maxErr < 1e-3, "max error " + maxErr);
    }
}
