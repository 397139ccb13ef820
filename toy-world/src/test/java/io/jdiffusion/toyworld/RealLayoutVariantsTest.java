package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SD 2.x, SDXL, float16 and external-data variants: their files, declared graph inputs/outputs and the SDXL
 * UNet's dependence on every input (the end-to-end pictures are checked in the engine's RealLayoutsEngineTest).
 */
class RealLayoutVariantsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path root;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("toy-layouts");
    }

    @AfterAll
    static void tearDown() throws Exception {
        ToyFixture.deleteTree(root);
    }

    private static JsonNode json(Path file) throws Exception {
        return JSON.readTree(file.toFile());
    }

    private static List<String> names(Map<String, NodeInfo> m) {
        return new ArrayList<>(m.keySet());
    }

    @Test
    void sd2IsWideVPredictionAt768() throws Exception {
        Path dir = ToyWorld.write(root.resolve("sd2"), ToyWorldOptions.sd2());
        assertEquals(96, json(dir.resolve("unet/config.json")).get("sample_size").asInt());
        assertEquals(1024, json(dir.resolve("unet/config.json")).get("cross_attention_dim").asInt());
        assertEquals("v_prediction", json(dir.resolve("scheduler/scheduler_config.json")).get("prediction_type").asText());
        assertFalse(ToyWorld.isCurrent(dir, ToyWorldOptions.defaults().withHiddenWidth(1024)
                .withPredictionType(ToyWorldOptions.V_PREDICTION)), "sample size is part of the key");
    }

    @Test
    void sdxlFolderAsOptimumWritesIt() throws Exception {
        Path dir = ToyWorld.write(root.resolve("sdxl"), ToyWorldOptions.sdxl());
        JsonNode index = json(dir.resolve("model_index.json"));
        assertEquals("ORTStableDiffusionXLPipeline", index.get("_class_name").asText());
        assertTrue(index.get("force_zeros_for_empty_prompt").asBoolean());
        assertEquals("CLIPTokenizer", index.get("tokenizer_2").get(1).asText());
        JsonNode unet = json(dir.resolve("unet/config.json"));
        assertEquals("text_time", unet.get("addition_embed_type").asText());
        assertEquals(2048, unet.get("cross_attention_dim").asInt());
        assertEquals(128, unet.get("sample_size").asInt());
        assertEquals(0.13025, json(dir.resolve("vae_decoder/config.json")).get("scaling_factor").asDouble());
        assertEquals("CLIPTextModelWithProjection", json(dir.resolve("text_encoder_2/config.json"))
                .get("architectures").get(0).asText());
        assertEquals("!", json(dir.resolve("tokenizer_2/special_tokens_map.json")).get("pad_token").asText());
        assertEquals("!", json(dir.resolve("tokenizer_2/tokenizer_config.json")).get("pad_token").asText());
        assertEquals(0, json(dir.resolve("tokenizer_2/vocab.json")).get("!").asInt(), "'!' is id 0 as in CLIP");
        assertEquals("<|endoftext|>", json(dir.resolve("tokenizer/special_tokens_map.json")).get("pad_token").asText());

        try (OrtSession te = ToyFixture.ENV.createSession(dir.resolve("text_encoder/model.onnx").toString());
             OrtSession te2 = ToyFixture.ENV.createSession(dir.resolve("text_encoder_2/model.onnx").toString());
             OrtSession un = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString())) {
            // output order as Optimum's CLIPTextOnnxConfig / CLIPTextWithProjectionOnnxConfig: [-2] is the penultimate
            assertEquals(List.of("last_hidden_state", "pooler_output", "hidden_states.0", "hidden_states.1",
                    "hidden_states.2"), names(te.getOutputInfo()));
            assertEquals(List.of("text_embeds", "last_hidden_state", "hidden_states.0", "hidden_states.1",
                    "hidden_states.2"), names(te2.getOutputInfo()));
            FolderLayoutTest.assertIo(te2.getOutputInfo(), "text_embeds", OnnxJavaType.FLOAT, -1, 1280);
            FolderLayoutTest.assertIo(te.getInputInfo(), "input_ids", OnnxJavaType.INT64, -1, -1);
            assertEquals(List.of("sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"),
                    names(un.getInputInfo()));
            FolderLayoutTest.assertIo(un.getInputInfo(), "encoder_hidden_states", OnnxJavaType.FLOAT, -1, -1, 2048);
            FolderLayoutTest.assertIo(un.getInputInfo(), "text_embeds", OnnxJavaType.FLOAT, -1, 1280);
            FolderLayoutTest.assertIo(un.getInputInfo(), "time_ids", OnnxJavaType.FLOAT, -1, 6);
        }
    }

    /** The SDXL UNet at t = 500 on a fixed x_t: out_sample for the given inputs. */
    private static float[] xlUnet(OrtSession unet, float[] ehs, float[] textEmbeds, float[] timeIds) throws Exception {
        int h = 16, w = 24;
        float[] x = new float[4 * h * w];
        Random rnd = new Random(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("sample", OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(x), new long[] {1, 4, h, w}));
            in.put("timestep", OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(new float[] {500f}), new long[] {1}));
            in.put("encoder_hidden_states", OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(ehs), new long[] {1, 77, 2048}));
            in.put("text_embeds", OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(textEmbeds), new long[] {1, 1280}));
            in.put("time_ids", OnnxTensor.createTensor(ToyFixture.ENV, FloatBuffer.wrap(timeIds), new long[] {1, 6}));
            try (OrtSession.Result r = unet.run(in)) {
                return ToyFixture.floats((OnnxTensor) r.get(0));
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    private static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.sqrt(s / a.length);
    }

    @Test
    void sdxlUnetNeedsEveryInputWiredRight() throws Exception {
        Path dir = ToyWorld.ensure(root.resolve("sdxl-wiring"), ToyWorldOptions.sdxl());
        try (OrtSession unet = ToyFixture.ENV.createSession(dir.resolve("unet/model.onnx").toString())) {
            // a "red circle on white" text: shape in encoder 1's part, foreground in encoder 2's, background pooled
            float[] ehs = new float[77 * 2048];
            ehs[5 * 2048 + TextFeatures.shapeDim(World.SHAPES.indexOf("circle"))] = 1f;
            ehs[5 * 2048 + 768 + TextFeatures.fgDim(World.COLOURS.indexOf("red"))] = 1f;
            float[] pooled = new float[1280];
            pooled[TextFeatures.bgDim(World.COLOURS.indexOf("white"))] = 1f;
            float[] timeIds = {128, 192, 0, 0, 128, 192}; // 16 x 24 latents = 128 x 192 px
            float[] right = xlUnet(unet, ehs, pooled, timeIds);

            float[] swapped = xlUnet(unet, ehs, pooled, new float[] {192, 128, 0, 0, 192, 128});
            float[] cropped = xlUnet(unet, ehs, pooled, new float[] {128, 192, 8, 0, 128, 192});
            float[] noPooled = xlUnet(unet, ehs, new float[1280], timeIds);
            float[] enc2First = new float[77 * 2048]; // the encoders' parts in the wrong order
            enc2First[5 * 2048 + 1280 + TextFeatures.shapeDim(World.SHAPES.indexOf("circle"))] = 1f;
            enc2First[5 * 2048 + TextFeatures.fgDim(World.COLOURS.indexOf("red"))] = 1f;
            float[] wrongOrder = xlUnet(unet, enc2First, pooled, timeIds);
            for (float[] wrong : List.of(swapped, cropped, noPooled, wrongOrder)) {
                assertTrue(distance(right, wrong) > 0.05, "a miswired input must change the prediction: "
                        + distance(right, wrong));
            }
            assertEquals(0, distance(right, xlUnet(unet, ehs, pooled, timeIds)), 1e-6, "deterministic");
        }
    }

    @Test
    void float16DeclaresEveryFloatInputAndOutputHalf() throws Exception {
        Path dir = ToyWorld.write(root.resolve("xl16"), ToyWorldOptions.sdxl().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        assertEquals("float16", json(dir.resolve("text_encoder/config.json")).get("torch_dtype").asText());
        for (String part : List.of("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder")) {
            try (OrtSession s = ToyFixture.ENV.createSession(dir.resolve(part).resolve("model.onnx").toString())) {
                List<NodeInfo> all = new ArrayList<>(s.getInputInfo().values());
                all.addAll(s.getOutputInfo().values());
                for (NodeInfo n : all) {
                    OnnxJavaType t = ((TensorInfo) n.getInfo()).type;
                    boolean integer = n.getName().equals("input_ids") || n.getName().equals("timestep");
                    assertEquals(integer ? t : OnnxJavaType.FLOAT16, t, part + " " + n.getName());
                }
            }
        }
    }

    @Test
    void externalDataAsTheExportersWriteIt() throws Exception {
        Path pb = ToyWorld.write(root.resolve("pb"), ToyWorldOptions.defaults()
                .withWeights(ToyWorldOptions.WeightsLayout.WEIGHTS_PB));
        assertExternal(pb.resolve("unet"), "weights.pb");
        assertFalse(Files.exists(pb.resolve("text_encoder/weights.pb")), "the script externalises the UNet only");
        Path data = ToyWorld.write(root.resolve("data"), ToyWorldOptions.sdxl()
                .withWeights(ToyWorldOptions.WeightsLayout.ONNX_DATA));
        for (String part : List.of("unet", "text_encoder", "text_encoder_2")) assertExternal(data.resolve(part), "model.onnx_data");
        assertFalse(Files.exists(data.resolve("vae_decoder/model.onnx_data")));
        // the sessions resolve the data file beside model.onnx
        try (OrtSession s = ToyFixture.ENV.createSession(data.resolve("text_encoder_2/model.onnx").toString())) {
            assertTrue(s.getOutputInfo().containsKey("text_embeds"));
        }
    }

    private static void assertExternal(Path part, String file) throws Exception {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(part.resolve("model.onnx")));
        long size = Files.size(part.resolve(file));
        long covered = 0;
        int external = 0;
        for (OnnxMl.TensorProto t : m.getGraph().getInitializerList()) {
            if (t.getDataLocation() != OnnxMl.TensorProto.DataLocation.EXTERNAL) {
                assertTrue(t.getRawData().size() < ModelFiles.EXTERNAL_THRESHOLD, "small tensors stay inline");
                continue;
            }
            external++;
            Map<String, String> kv = new HashMap<>();
            t.getExternalDataList().forEach(e -> kv.put(e.getKey(), e.getValue()));
            assertEquals(file, kv.get("location"));
            long offset = Long.parseLong(kv.get("offset"));
            long length = Long.parseLong(kv.get("length"));
            assertEquals(covered, offset, "tensors follow each other in the file");
            assertTrue(t.getRawData().isEmpty());
            covered = offset + length;
        }
        assertTrue(external > 0, part + " has external tensors");
        assertEquals(size, covered, "the data file holds exactly the external tensors");
    }
}
