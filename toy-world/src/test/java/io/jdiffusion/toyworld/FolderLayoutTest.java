package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every file is there, configs say what diffusers' export says, every graph loads with the right signature. */
class FolderLayoutTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> FILES = List.of(
            "model_index.json", "scheduler/scheduler_config.json",
            "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer_config.json",
            "text_encoder/model.onnx", "text_encoder/config.json", "unet/model.onnx", "unet/config.json",
            "vae_encoder/model.onnx", "vae_encoder/config.json", "vae_decoder/model.onnx", "vae_decoder/config.json");

    static JsonNode json(Path p) throws Exception {
        return JSON.readTree(p.toFile());
    }

    @Test
    void everyFileAndSmall() throws Exception {
        Path dir = ToyFixture.get().dir;
        long total = 0;
        for (String f : FILES) {
            Path p = dir.resolve(f);
            assertTrue(Files.isRegularFile(p), f);
            assertTrue(Files.size(p) > 0, f);
        }
        try (Stream<Path> s = Files.walk(dir)) {
            total = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        System.out.printf("toy world: written in %d ms (first write in this JVM), %.2f MB%n",
                ToyFixture.get().writeMillis, total / 1e6);
        assertTrue(total < 10_000_000, "folder is " + total + " bytes");
        // nothing left beside it
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(List.of(dir), s.toList());
        }
    }

    @Test
    void modelIndexAndScheduler() throws Exception {
        Path dir = ToyFixture.get().dir;
        JsonNode idx = json(dir.resolve("model_index.json"));
        assertEquals(JSON.readTree("""
                {"_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
                 "feature_extractor": [null, null], "requires_safety_checker": false, "safety_checker": [null, null],
                 "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
                 "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
                 "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"]}
                """), idx);
        List<String> keys = new java.util.ArrayList<>();
        idx.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("_class_name", "_diffusers_version", "feature_extractor", "requires_safety_checker",
                "safety_checker", "scheduler", "text_encoder", "tokenizer", "unet", "vae_decoder", "vae_encoder"), keys);

        JsonNode sch = json(dir.resolve("scheduler/scheduler_config.json"));
        assertEquals(JSON.readTree("""
                {"_class_name": "PNDMScheduler", "_diffusers_version": "0.30.0", "beta_end": 0.012,
                 "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false,
                 "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": false,
                 "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null}
                """).toString(), sch.toString());
        assertTrue(Files.readString(dir.resolve("scheduler/scheduler_config.json")).contains("\"beta_start\": 0.00085"));
    }

    @Test
    void componentConfigs() throws Exception {
        ToyFixture f = ToyFixture.get();
        JsonNode unet = json(f.dir.resolve("unet/config.json"));
        assertEquals(4, unet.get("in_channels").asInt());
        assertEquals(4, unet.get("out_channels").asInt());
        assertEquals(64, unet.get("sample_size").asInt());
        assertEquals(768, unet.get("cross_attention_dim").asInt());
        for (String vae : List.of("vae_encoder", "vae_decoder")) {
            JsonNode c = json(f.dir.resolve(vae + "/config.json"));
            assertEquals(0.18215, c.get("scaling_factor").asDouble(), 0.0, vae);
            assertTrue(Files.readString(f.dir.resolve(vae + "/config.json")).contains("\"scaling_factor\": 0.18215,"));
            assertEquals(4, c.get("latent_channels").asInt());
            assertEquals(3, c.get("in_channels").asInt());
            assertEquals(3, c.get("out_channels").asInt());
            assertEquals(512, c.get("sample_size").asInt());
        }
        JsonNode te = json(f.dir.resolve("text_encoder/config.json"));
        int v = f.tokenizer.vocabSize();
        assertEquals(768, te.get("hidden_size").asInt());
        assertEquals(77, te.get("max_position_embeddings").asInt());
        assertEquals(v, te.get("vocab_size").asInt());
        assertEquals(v - 2, te.get("bos_token_id").asInt());
        assertEquals(v - 1, te.get("eos_token_id").asInt());
        assertEquals(v - 1, te.get("pad_token_id").asInt());
        assertTrue(ToyWorld.isCurrent(f.dir, ToyWorldOptions.defaults()));
        assertFalse(ToyWorld.isCurrent(f.dir, ToyWorldOptions.defaults().withHiddenWidth(1024)));
    }

    static void assertIo(Map<String, NodeInfo> infos, String name, OnnxJavaType type, long... shape) {
        NodeInfo ni = infos.get(name);
        assertTrue(ni != null, "missing " + name + " in " + infos.keySet());
        TensorInfo ti = (TensorInfo) ni.getInfo();
        assertEquals(type, ti.type, name);
        assertArrayEquals(shape, ti.getShape(), name + " " + Arrays.toString(ti.getShape()));
    }

    @Test
    void graphSignatures() throws Exception {
        ToyFixture f = ToyFixture.get();
        OrtSession te = f.text, unet = f.unet, enc = f.vaeEncoder, dec = f.vaeDecoder;
        assertEquals(List.of("input_ids"), List.copyOf(te.getInputNames()));
        assertIo(te.getInputInfo(), "input_ids", OnnxJavaType.INT32, -1, -1);
        assertEquals(List.of("last_hidden_state", "pooler_output"), List.copyOf(te.getOutputNames()));
        assertIo(te.getOutputInfo(), "last_hidden_state", OnnxJavaType.FLOAT, -1, -1, 768);
        assertIo(te.getOutputInfo(), "pooler_output", OnnxJavaType.FLOAT, -1, 768);

        assertEquals(List.of("sample", "timestep", "encoder_hidden_states"), List.copyOf(unet.getInputNames()));
        assertIo(unet.getInputInfo(), "sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertIo(unet.getInputInfo(), "timestep", OnnxJavaType.FLOAT, -1);
        assertIo(unet.getInputInfo(), "encoder_hidden_states", OnnxJavaType.FLOAT, -1, -1, 768);
        assertEquals(List.of("out_sample"), List.copyOf(unet.getOutputNames()));
        assertIo(unet.getOutputInfo(), "out_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);

        assertIo(enc.getInputInfo(), "sample", OnnxJavaType.FLOAT, -1, 3, -1, -1);
        assertIo(enc.getOutputInfo(), "latent_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertIo(dec.getInputInfo(), "latent_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertIo(dec.getOutputInfo(), "sample", OnnxJavaType.FLOAT, -1, 3, -1, -1);
    }

    @Test
    void onnxModelsAreOpset17Ir8WithTheTokenTable() throws Exception {
        ToyFixture f = ToyFixture.get();
        for (String m : List.of("text_encoder", "unet", "vae_encoder", "vae_decoder")) {
            OnnxMl.ModelProto mp = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(f.dir.resolve(m + "/model.onnx")));
            assertEquals(8, mp.getIrVersion(), m);
            assertEquals(1, mp.getOpsetImportCount(), m);
            assertEquals("", mp.getOpsetImport(0).getDomain(), m);
            assertEquals(17, mp.getOpsetImport(0).getVersion(), m);
        }
        OnnxMl.ModelProto te = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(f.dir.resolve("text_encoder/model.onnx")));
        OnnxMl.TensorProto table = te.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals("text_model.embeddings.token_embedding.weight")).findFirst().orElseThrow();
        assertEquals(List.of((long) f.tokenizer.vocabSize(), 768L), table.getDimsList());
        assertTrue(te.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Gather")
                && n.getInput(0).equals("text_model.embeddings.token_embedding.weight")));
    }

    @Test
    void rewriteReplacesTheFolder() throws Exception {
        Path root = Files.createTempDirectory("toy-rewrite");
        Path dir = root.resolve("m");
        ToyWorld.write(dir, ToyWorldOptions.defaults().withHiddenWidth(40));
        Files.writeString(dir.resolve("stale.txt"), "x");
        assertFalse(ToyWorld.isCurrent(dir, ToyWorldOptions.defaults()));
        ToyWorld.ensure(dir, ToyWorldOptions.defaults());
        assertTrue(ToyWorld.isCurrent(dir, ToyWorldOptions.defaults()));
        assertFalse(Files.exists(dir.resolve("stale.txt")));
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of(dir), s.toList(), "no temp folders left behind");
        }
        assertEquals(768, json(dir.resolve("text_encoder/config.json")).get("hidden_size").asInt());
        ToyFixture.deleteTree(root);
    }

    @Test
    void concurrentWritersOfTheSameFolder() throws Exception {
        Path root = Files.createTempDirectory("toy-race");
        Path dir = root.resolve("m");
        ToyWorldOptions o = ToyWorldOptions.defaults().withHiddenWidth(40);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Path>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) fs.add(pool.submit(() -> ToyWorld.write(dir, o)));
            for (var f : fs) f.get();
        } finally {
            pool.shutdown();
        }
        assertTrue(ToyWorld.isCurrent(dir, o));
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of(dir), s.toList(), "no temp folders left behind");
        }
        for (String f : FILES) assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        ToyFixture.deleteTree(root);
    }
}
