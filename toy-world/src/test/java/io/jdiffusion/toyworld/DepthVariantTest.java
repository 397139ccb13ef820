package io.jdiffusion.toyworld;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
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

/** The depth variant: a 5-channel UNet whose depth channel decides the shape, and the toy depth estimator. */
class DepthVariantTest {
    static Path root;
    static Path dir;
    static OrtSession unet;
    static OrtSession estimator;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("toy-depth");
        dir = ToyWorld.write(root.resolve("depth"), ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.DEPTH));
        unet = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString());
        estimator = ToyFixture.ENV.createSession(dir.resolve("depth_estimator/model.onnx").toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        unet.close();
        estimator.close();
        ToyFixture.deleteTree(root);
    }

    @Test
    void folderHasTheDepthParts() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals(5, json.readTree(dir.resolve("unet/config.json").toFile()).get("in_channels").asInt());
        assertEquals("DPTForDepthEstimation",
                json.readTree(dir.resolve("depth_estimator/config.json").toFile()).get("architectures").get(0).asText());
        JsonNode pre = json.readTree(dir.resolve("feature_extractor/preprocessor_config.json").toFile());
        assertEquals(384, pre.get("size").get("height").asInt());
        assertEquals(0.5, pre.get("image_std").get(0).asDouble());
        assertEquals("OnnxRuntimeModel", json.readTree(dir.resolve("model_index.json").toFile()).get("depth_estimator").get(1).asText());
        FolderLayoutTest.assertIo(unet.getInputInfo(), "sample", OnnxJavaType.FLOAT, -1, 5, -1, -1);
        FolderLayoutTest.assertIo(estimator.getInputInfo(), "pixel_values", OnnxJavaType.FLOAT, -1, 3, -1, -1);
        FolderLayoutTest.assertIo(estimator.getOutputInfo(), "predicted_depth", OnnxJavaType.FLOAT, -1, -1, -1);
    }

    /** Near (the shape, unlike the border) is large; the background is 0. */
    @Test
    void estimatorSeesTheShapeInFront() throws Exception {
        int s = DepthEstimatorModel.SIDE;
        int[] red = World.rgb("red"), white = World.rgb("white");
        float[] px = new float[3 * s * s];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++) {
                double dx = (x + 0.5 - s / 2.0) / (s / 2.0), dy = (y + 0.5 - s / 2.0) / (s / 2.0);
                int[] c = Math.hypot(dx, dy) < 0.6 ? red : white;
                for (int ch = 0; ch < 3; ch++) px[(ch * s + y) * s + x] = (c[ch] / 255f - 0.5f) / 0.5f;
            }
        float[] depth;
        try (OnnxTensor in = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(px), new long[] {1, 3, s, s});
             OrtSession.Result r = estimator.run(Map.of("pixel_values", in))) {
            depth = ToyFixture.floats((OnnxTensor) r.get("predicted_depth").get());
        }
        assertEquals(s * s, depth.length);
        double want = 0;
        for (int ch = 0; ch < 3; ch++) want += Math.pow((red[ch] - white[ch]) / 127.5, 2);
        want = DepthEstimatorModel.SCALE * Math.sqrt(want);
        assertEquals(want, depth[(s / 2) * s + s / 2], 1e-3 * want, "centre");
        assertEquals(0, depth[3 * s + 3], 1e-3, "corner");
        assertEquals(0, depth[(s / 2) * s + s / 2 + (int) (0.65 * s / 2)], 1e-3, "just outside the circle");
    }

    @Test
    void depthDecidesTheShapeAndThePromptTheColours() throws Exception {
        // the prompt names a circle; the depth says square: the depth wins, the colours follow the prompt
        float[] img = generate("a green circle on a black background", "square", 256, 256, 3);
        assertEquals("green", ToyFixture.colourAt(img, 256, 256, 128, 128));
        assertEquals("black", ToyFixture.colourAt(img, 256, 256, 4, 4));
        assertEquals("green", ToyFixture.colourAt(img, 256, 256, 128 + 58, 128 + 58), "square corner");
        // the prompt leaves the shape open: the depth's circle, not the seed, picks it
        for (long seed = 1; seed <= 3; seed++) {
            float[] c = generate("a blue shape on a yellow background", "circle", 256, 256, seed);
            assertEquals("blue", ToyFixture.colourAt(c, 256, 256, 128 + 72, 128), "inside the circle's radius, seed " + seed);
            assertEquals("yellow", ToyFixture.colourAt(c, 256, 256, 128 + 62, 128 + 62), "outside the circle, seed " + seed);
        }
    }

    /** Depth [1,1,h,w] in [-1,1]: +1 on the shape (near), -1 off it, as the depth pipeline normalises it. */
    static float[] depthOf(String shape, int h, int w) {
        float[] d = new float[h * w];
        double half = Math.min(h, w) / 2.0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double px = (x + 0.5 - w / 2.0) / half, py = (y + 0.5 - h / 2.0) / half;
                boolean in = shape.equals("circle") ? Math.hypot(px, py) < 0.6 : Math.max(Math.abs(px), Math.abs(py)) < 0.5;
                d[y * w + x] = in ? 1f : -1f;
            }
        return d;
    }

    /** 20-step DDIM txt2img with guidance 7.5, the depth channel appended to both halves of the batch. */
    static float[] generate(String prompt, String depthShape, int imageW, int imageH, long seed) throws Exception {
        ToyFixture f = ToyFixture.get();
        int h = imageH / 8, w = imageW / 8, n = 4 * h * w, plane = h * w, steps = 20;
        float[] depth = depthOf(depthShape, h, w);
        float[] ac = NoiseSchedule.alphasCumprod();
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        float[] ehs = f.encode("", prompt);
        int ratio = NoiseSchedule.TRAIN_TIMESTEPS / steps;
        float[] pair = new float[2 * (n + plane)];
        for (int i = steps - 1; i >= 0; i--) {
            int t = i * ratio + 1, prev = t - ratio;
            for (int b = 0; b < 2; b++) {
                System.arraycopy(x, 0, pair, b * (n + plane), n);
                System.arraycopy(depth, 0, pair, b * (n + plane) + n, plane);
            }
            float[] eps2;
            try (OnnxTensor xs = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(pair), new long[] {2, 5, h, w});
                 OnnxTensor ts = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(new float[] {t, t}), new long[] {2});
                 OnnxTensor es = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(ehs), new long[] {2, 77, f.width});
                 OrtSession.Result r = unet.run(Map.of("sample", xs, "timestep", ts, "encoder_hidden_states", es))) {
                eps2 = ToyFixture.floats((OnnxTensor) r.get("out_sample").get());
            }
            double a = ac[t], aPrev = prev >= 0 ? ac[prev] : ac[0];
            for (int j = 0; j < n; j++) {
                double eps = eps2[j] + 7.5 * (eps2[n + j] - eps2[j]);
                double x0 = (x[j] - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
                x[j] = (float) (Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps);
            }
        }
        for (int j = 0; j < n; j++) x[j] = (float) (x[j] / ToyVae.SCALING_FACTOR);
        return f.decode(x, 1, h, w);
    }
}
