package io.jdiffusion.toyworld;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 9-channel inpainting UNet: known image outside the mask, the prompt's scene inside it, the surroundings
 * deciding what the prompt leaves open. Inputs built as diffusers' StableDiffusionInpaintPipeline builds them.
 */
class InpaintUnetTest {
    static final int H = 16, W = 16, N = H * W;
    static Path root;
    static OrtSession unet;
    static ToyFixture ref;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("toy-inpaint");
        Path dir = ToyWorld.write(root.resolve("inpaint"), ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.INPAINT));
        assertEquals(9, new ObjectMapper().readTree(dir.resolve("unet/config.json").toFile()).get("in_channels").asInt());
        unet = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString());
        ref = ToyFixture.get();
    }

    @AfterAll
    static void tearDown() throws Exception {
        unet.close();
        ToyFixture.deleteTree(root);
    }

    /** Scaled latents of "a red square on a white background" at 16 x 16: the square covers the middle half. */
    static float[] redSquare() {
        double[] red = ToyVae.scaledLatent("red"), white = ToyVae.scaledLatent("white");
        float[] z = new float[4 * N];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                boolean in = x >= 4 && x < 12 && y >= 4 && y < 12;
                for (int c = 0; c < 4; c++) z[c * N + y * W + x] = (float) (in ? red : white)[c];
            }
        }
        return z;
    }

    /** Mask (left half = 1) and masked-image latents: the masked pixels are 0 in [-1, 1], i.e. mid grey. */
    static float[] extra(float[] known) {
        double[] grey = ToyVae.C; // the encoder at RGB 0: its bias alone
        float[] e = new float[5 * N];
        for (int p = 0; p < N; p++) {
            boolean masked = p % W < W / 2;
            e[p] = masked ? 1f : 0f;
            for (int c = 0; c < 4; c++) e[(1 + c) * N + p] = masked ? (float) grey[c] : known[c * N + p];
        }
        return e;
    }

    float[] x0(float[] x, float[] extra, float t, String prompt) throws Exception {
        float[] sample = new float[9 * N];
        System.arraycopy(x, 0, sample, 0, 4 * N);
        System.arraycopy(extra, 0, sample, 4 * N, 5 * N);
        float[] ehs = ref.encode(prompt);
        float[] eps;
        try (OnnxTensor xs = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(sample), new long[] {1, 9, H, W});
             OnnxTensor ts = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(new float[] {t}), new long[] {1});
             OnnxTensor es = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(ehs), new long[] {1, 77, 768});
             OrtSession.Result r = unet.run(Map.of("sample", xs, "timestep", ts, "encoder_hidden_states", es))) {
            eps = ToyFixture.floats((OnnxTensor) r.get("out_sample").get());
        }
        assertEquals(4 * N, eps.length, "the output is the latents' 4 channels");
        double sig = UnetFormulaTest.sigma(t), sa = 1 / Math.sqrt(1 + sig * sig), s1a = sig * sa;
        float[] out = new float[4 * N];
        for (int i = 0; i < out.length; i++) out[i] = (float) ((x[i] - s1a * eps[i]) / sa);
        return out;
    }

    /** A deterministic DDIM run (eta 0, 20 steps) from seeded noise: the final latents. */
    float[] ddim(float[] extra, String prompt, long seed) throws Exception {
        Random rnd = new Random(seed);
        float[] x = new float[4 * N];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] ac = NoiseSchedule.alphasCumprod();
        for (int t = 951; t >= 1; t -= 50) {
            float[] x0 = x0(x, extra, t, prompt);
            double a = ac[t], aPrev = t - 50 >= 0 ? ac[t - 50] : ac[0];
            for (int i = 0; i < x.length; i++) {
                double eps = (x[i] - Math.sqrt(a) * x0[i]) / Math.sqrt(1 - a);
                x[i] = (float) (Math.sqrt(aPrev) * x0[i] + Math.sqrt(1 - aPrev) * eps);
            }
        }
        return x0(x, extra, 1, prompt);
    }

    static String colourAt(float[] z, int x, int y) {
        double best = Double.MAX_VALUE;
        String name = null;
        for (String c : World.COLOURS) {
            double[] l = ToyVae.scaledLatent(c);
            double d = 0;
            for (int ch = 0; ch < 4; ch++) d += Math.pow(z[ch * N + y * W + x] - l[ch], 2);
            if (d < best) {
                best = d;
                name = c;
            }
        }
        return name;
    }

    @Test
    void outsideTheMaskTheKnownImageIsTheCleanPrediction() throws Exception {
        float[] known = redSquare();
        float[] extra = extra(known);
        Random rnd = new Random(3);
        float[] x = new float[4 * N];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (float t : new float[] {999, 500.5f, 20}) {
            float[] x0 = x0(x, extra, t, "a blue circle on a green background");
            double max = 0;
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < N; p++)
                    if (p % W >= W / 2) max = Math.max(max, Math.abs(x0[c * N + p] - known[c * N + p]));
            assertTrue(max < 1e-3, "x0 outside the mask at t " + t + " is off by " + max);
        }
    }

    @Test
    void insideTheMaskThePromptDecides() throws Exception {
        float[] z = ddim(extra(redSquare()), "a blue square on a white background", 11);
        assertEquals("blue", colourAt(z, 6, 8), "the masked half of the square follows the prompt");
        assertEquals("white", colourAt(z, 1, 8));
        assertEquals("red", colourAt(z, 10, 8), "the known half stays");
        assertEquals("white", colourAt(z, 14, 8));
    }

    @Test
    void whatThePromptLeavesOpenFollowsTheSurroundings() throws Exception {
        // several seeds: without the context each would draw its own background (white in 1 of 7)
        for (long seed = 1; seed <= 4; seed++) {
            float[] z = ddim(extra(redSquare()), "a blue square", seed);
            assertEquals("blue", colourAt(z, 6, 8), "seed " + seed);
            assertEquals("white", colourAt(z, 1, 8), "seed " + seed + ": the background continues the known one");
            assertEquals("white", colourAt(z, 6, 2), "seed " + seed);
        }
        // the prompt names the background: it wins over the white surroundings
        float[] z = ddim(extra(redSquare()), "a red square on a black background", 5);
        assertEquals("black", colourAt(z, 1, 8));
        assertEquals("white", colourAt(z, 14, 8), "the known half stays white");
    }

    @Test
    void contextNeverOutweighsAPromptWord() {
        double[][] lat = new double[World.COLOURS.size()][];
        for (int c = 0; c < lat.length; c++) lat[c] = ToyVae.scaledLatent(World.COLOURS.get(c));
        double beta = InpaintEvidence.beta(lat);
        double max = 0;
        for (double[] a : lat)
            for (double[] b : lat) {
                double d = 0;
                for (int c = 0; c < 4; c++) d += (a[c] - b[c]) * (a[c] - b[c]);
                max = Math.max(max, beta * d);
            }
        assertEquals(UnetModel.ALPHA / 2, max, 1e-9);
    }
}
