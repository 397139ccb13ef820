package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextEncoderTest {
    static final int W = 768;

    static float[] tokenTable(Path dir) throws Exception {
        OnnxMl.ModelProto te = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("text_encoder/model.onnx")));
        OnnxMl.TensorProto t = te.getGraph().getInitializerList().stream()
                .filter(x -> x.getName().equals(TextEncoderModel.TABLE_NAME)).findFirst().orElseThrow();
        float[] out = new float[(int) (t.getDims(0) * t.getDims(1))];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** Runs a text encoder session; returns {last_hidden_state, pooler_output}. */
    static float[][] run(OrtSession s, int[] ids, int b, int seq) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(ToyFixture.ENV, IntBuffer.wrap(ids), new long[] {b, seq});
             OrtSession.Result r = s.run(Map.of("input_ids", t))) {
            return new float[][] {ToyFixture.floats((OnnxTensor) r.get("last_hidden_state").get()),
                    ToyFixture.floats((OnnxTensor) r.get("pooler_output").get())};
        }
    }

    static float[] expectedFeatures(int... ones) {
        float[] f = new float[TextFeatures.FEATURE_DIMS];
        for (int o : ones) f[o] = 1f;
        return f;
    }

    /** Features of a final state: the final layer norm leaves them 0 or 1 up to float rounding. */
    static void assertFeatures(float[] expected, float[] actual, String what) {
        assertArrayEquals(expected, actual, 2e-5f, what);
    }

    static float[] features(float[] hs, int token) {
        float[] f = new float[TextFeatures.FEATURE_DIMS];
        System.arraycopy(hs, token * W, f, 0, f.length);
        return f;
    }

    @Test
    void featureDimsSayWhatThePromptSays() throws Exception {
        ToyFixture f = ToyFixture.get();
        int[] ids = f.tokenizer.encodePadded("a red circle on a white background");
        float[][] out = run(f.text, ids, 1, 77);
        float[] hs = out[0];
        assertEquals(77 * W, hs.length);
        int red = World.COLOURS.indexOf("red"), white = World.COLOURS.indexOf("white");
        assertFeatures(expectedFeatures(), features(hs, 0), "BOS");
        assertFeatures(expectedFeatures(), features(hs, 1), "a");
        assertFeatures(expectedFeatures(TextFeatures.colourDim(red), TextFeatures.fgDim(red)), features(hs, 2), "red");
        assertFeatures(expectedFeatures(TextFeatures.shapeDim(0)), features(hs, 3), "circle");
        assertFeatures(expectedFeatures(), features(hs, 4), "on");
        assertFeatures(expectedFeatures(TextFeatures.colourDim(white), TextFeatures.bgDim(white)), features(hs, 6), "white");
        assertFeatures(expectedFeatures(TextFeatures.BACKGROUND_DIM), features(hs, 7), "background");
        for (int t = 8; t < 77; t++) assertFeatures(expectedFeatures(), features(hs, t), "EOS/pad " + t);

        // the other dims are the table's seeded values, through a final layer norm that is the identity on them:
        // every state has mean 0 and variance 1 over the width
        float[] table = tokenTable(f.dir);
        for (int t = 0; t < 77; t++) {
            double sum = 0, sq = 0;
            for (int d = 0; d < W; d++) {
                if (d >= TextFeatures.FEATURE_DIMS) assertEquals(table[ids[t] * W + d], hs[t * W + d], 2e-5);
                sum += hs[t * W + d];
                sq += hs[t * W + d] * hs[t * W + d];
            }
            assertEquals(0, sum / W, 1e-5, "mean of state " + t);
            assertEquals(1, sq / W, 1e-4, "variance of state " + t);
        }

        // pooler_output = the state at the first EOS
        float[] pooled = out[1];
        assertEquals(W, pooled.length);
        for (int d = 0; d < W; d++) assertEquals(hs[8 * W + d], pooled[d], 0f);
    }

    @Test
    void colourWithoutBackgroundIsForeground() throws Exception {
        ToyFixture f = ToyFixture.get();
        float[] hs = f.encode("blue background, yellow star");
        int blue = World.COLOURS.indexOf("blue"), yellow = World.COLOURS.indexOf("yellow");
        assertFeatures(expectedFeatures(TextFeatures.colourDim(blue), TextFeatures.bgDim(blue)), features(hs, 1), "blue");
        assertFeatures(expectedFeatures(TextFeatures.colourDim(yellow), TextFeatures.fgDim(yellow)), features(hs, 4), "yellow");
    }

    @Test
    void batchTwoAndLongSequences() throws Exception {
        ToyFixture f = ToyFixture.get();
        int s = 154;
        int[] ids = new int[2 * s];
        java.util.Arrays.fill(ids, f.tokenizer.eosId());
        int[] a = f.tokenizer.encodePadded("", 77), b = f.tokenizer.encodePadded("a green hexagon", 77);
        System.arraycopy(a, 0, ids, 0, 77);
        System.arraycopy(b, 0, ids, s, 77);
        float[][] out = run(f.text, ids, 2, s);
        assertEquals(2 * s * W, out[0].length);
        assertEquals(2 * W, out[1].length);
        for (int d = 0; d < W; d++) {
            assertEquals(out[0][1 * W + d], out[1][d], 0f, "pooler uncond = state at index 1");
            assertEquals(out[0][(s + 4) * W + d], out[1][W + d], 0f, "pooler cond = state at index 4");
        }
        assertEquals(1f, out[0][(s + 3) * W + TextFeatures.shapeDim(World.SHAPES.indexOf("hexagon"))], 2e-5f);
    }

    /** An embedding row that is the SUM of the rows of "orange" and "star" acts as an orange star. */
    @Test
    void summedEmbeddingActsAsBothWords() throws Exception {
        ToyFixture f = ToyFixture.get();
        OnnxMl.ModelProto te = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(f.dir.resolve("text_encoder/model.onnx")));
        float[] table = tokenTable(f.dir);
        int v = table.length / W;
        float[] bigger = java.util.Arrays.copyOf(table, table.length + W);
        int orange = f.tokenizer.id("orange</w>"), star = f.tokenizer.id("star</w>");
        for (int d = 0; d < W; d++) bigger[v * W + d] = table[orange * W + d] + table[star * W + d];
        OnnxMl.GraphProto.Builder g = te.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals(TextEncoderModel.TABLE_NAME)) {
                ByteBuffer bb = ByteBuffer.allocate(bigger.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(bigger);
                g.setInitializer(i, g.getInitializer(i).toBuilder().setDims(0, v + 1).setRawData(ByteString.copyFrom(bb.array())));
            }
        }
        byte[] model = te.toBuilder().setGraph(g).build().toByteArray();
        try (OrtSession s = ToyFixture.ENV.createSession(model, new OrtSession.SessionOptions())) {
            int[] ids = f.tokenizer.encodePadded("a photo of a", 77);
            ids[5] = v; // "<orange-star>"
            ids[6] = f.tokenizer.eosId();
            float[] hs = run(s, ids, 1, 77)[0];
            int o = World.COLOURS.indexOf("orange");
            // the summed row is not normalised, so the final layer norm scales it: the three features it has
            // (star, orange, foreground orange) stay equal and clearly on, every other feature stays ~0
            float[] feat = features(hs, 5);
            float on = feat[TextFeatures.shapeDim(World.SHAPES.indexOf("star"))];
            assertTrue(on > 0.5f, "star feature " + on);
            assertEquals(on, feat[TextFeatures.colourDim(o)], 1e-5f);
            assertEquals(on, feat[TextFeatures.fgDim(o)], 1e-5f);
            for (int d = 0; d < feat.length; d++) {
                if (d != TextFeatures.shapeDim(World.SHAPES.indexOf("star")) && d != TextFeatures.colourDim(o)
                        && d != TextFeatures.fgDim(o)) {
                    assertEquals(0f, feat[d], 0.01f, "feature " + d);
                }
            }
        }
    }
}
