package io.jdiffusion.toyworld;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Non-default options: W 40 / 1024, int64 ids and timestep, v-prediction. */
class VariantsTest {
    static Path root;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("toy-variants");
    }

    @AfterAll
    static void tearDown() throws Exception {
        ToyFixture.deleteTree(root);
    }

    @Test
    void narrowInt64VPrediction() throws Exception {
        ToyWorldOptions o = ToyWorldOptions.builder().hiddenWidth(40).idsType(ToyWorldOptions.IdsType.INT64)
                .timestepType(ToyWorldOptions.TimestepType.INT64).predictionType(ToyWorldOptions.V_PREDICTION).build();
        Path dir = ToyWorld.write(root.resolve("narrow"), o);
        assertEquals("v_prediction", new ObjectMapper().readTree(dir.resolve("scheduler/scheduler_config.json").toFile())
                .get("prediction_type").asText());
        ToyFixture ref = ToyFixture.get();
        try (OrtSession te = ToyFixture.ENV.createSession(dir.resolve("text_encoder/model.onnx").toString());
             OrtSession unet = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString())) {
            FolderLayoutTest.assertIo(te.getInputInfo(), "input_ids", OnnxJavaType.INT64, -1, -1);
            FolderLayoutTest.assertIo(te.getOutputInfo(), "last_hidden_state", OnnxJavaType.FLOAT, -1, -1, 40);
            FolderLayoutTest.assertIo(unet.getInputInfo(), "timestep", OnnxJavaType.INT64, -1);
            FolderLayoutTest.assertIo(unet.getInputInfo(), "encoder_hidden_states", OnnxJavaType.FLOAT, -1, -1, 40);

            String[] prompts = {"", "a yellow triangle on a blue background"};
            long[] ids = new long[2 * 77];
            for (int i = 0; i < 2; i++) {
                int[] p = ref.tokenizer.encodePadded(prompts[i]);
                for (int j = 0; j < 77; j++) ids[i * 77 + j] = p[j];
            }
            float[] ehs;
            try (OnnxTensor t = OnnxTensor.createTensor(ToyFixture.ENV, LongBuffer.wrap(ids), new long[] {2, 77});
                 OrtSession.Result r = te.run(Map.of("input_ids", t))) {
                ehs = ToyFixture.floats((OnnxTensor) r.get("last_hidden_state").get());
            }
            // the feature block fills all but 8 dims, and equals the default encoder's first 32 dims
            float[] wide = ref.encode(prompts);
            for (int tok = 0; tok < 2 * 77; tok++)
                for (int d = 0; d < 32; d++) assertEquals(wide[tok * 768 + d], ehs[tok * 40 + d], 2e-5f);

            int h = 16, w = 16, len = 4 * h * w;
            float[] x = new float[2 * len];
            Random rnd = new Random(5);
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            long t = 601;
            float[] v;
            try (OnnxTensor xs = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(x), new long[] {2, 4, h, w});
                 OnnxTensor ts = OnnxTensor.createTensor(ToyFixture.ENV, LongBuffer.wrap(new long[] {t, t}), new long[] {2});
                 OnnxTensor es = OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(ehs), new long[] {2, 77, 40});
                 OrtSession.Result r = unet.run(Map.of("sample", xs, "timestep", ts, "encoder_hidden_states", es))) {
                v = ToyFixture.floats((OnnxTensor) r.get("out_sample").get());
            }
            // v = sqrt(abar) eps - sqrt(1-abar) x0, x0 = (x - sqrt(1-abar) eps) / sqrt(abar), eps from the default UNet
            float[] eps = ref.unet(x, 2, h, w, new float[] {t, t}, wide, 77);
            double sig = UnetFormulaTest.sigma(t), abar = 1 / (1 + sig * sig), sa = Math.sqrt(abar), s1a = Math.sqrt(1 - abar);
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < x.length; i++) {
                double x0 = (x[i] - s1a * eps[i]) / sa;
                double want = sa * eps[i] - s1a * x0;
                maxDiff = Math.max(maxDiff, Math.abs(want - v[i]));
                maxAbs = Math.max(maxAbs, Math.abs(want));
            }
            assertTrue(maxDiff < 1e-4 * maxAbs, "v max diff " + maxDiff);
        }
    }

    @Test
    void wide1024() throws Exception {
        Path dir = ToyWorld.write(root.resolve("wide"), ToyWorldOptions.defaults().withHiddenWidth(1024));
        try (OrtSession te = ToyFixture.ENV.createSession(dir.resolve("text_encoder/model.onnx").toString());
             OrtSession unet = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString())) {
            FolderLayoutTest.assertIo(te.getOutputInfo(), "last_hidden_state", OnnxJavaType.FLOAT, -1, -1, 1024);
            FolderLayoutTest.assertIo(te.getOutputInfo(), "pooler_output", OnnxJavaType.FLOAT, -1, 1024);
            FolderLayoutTest.assertIo(unet.getInputInfo(), "encoder_hidden_states", OnnxJavaType.FLOAT, -1, -1, 1024);
        }
        assertEquals(1024, new ObjectMapper().readTree(dir.resolve("unet/config.json").toFile()).get("cross_attention_dim").asInt());
    }

    @Test
    void tooNarrowIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ToyWorldOptions.defaults().withHiddenWidth(31));
        assertThrows(IllegalArgumentException.class, () -> ToyWorldOptions.defaults().withPredictionType("sample"));
    }
}
