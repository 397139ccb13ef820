package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.conditioning.a1111.A1111PromptParser;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.conditioning.embeddings.EmbeddingFolder;
import io.jdiffusion.conditioning.embeddings.Fixtures;
import io.jdiffusion.engine.model.ModelFolder;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.engine.onnx.TextEncoderGraph;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyTokenizer;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Textual inversion and CLIP skip through the whole pipeline on the toy world, with the real
 * embeddings folder, the real CLIP conditioner and the toy text encoder rebuilt by ONNX Runtime.
 */
class TextualInversionToyWorldTest {
    static final int W = 768;

    @TempDir
    static Path tmp;
    private static Path modelDir;
    private static Path embeddings;
    private static Engine engine;
    private static OnnxModel model;
    private static float[] table;
    private static ToyTokenizer tokenizer;

    @BeforeAll
    static void start() throws Exception {
        modelDir = ToyWorld.ensure(Path.of("target", "toy-world-ti"), ToyWorldOptions.defaults());
        embeddings = Files.createDirectories(tmp.resolve("embeddings"));
        ClipConditioner conditioner = new ClipConditioner();
        conditioner.addParser(new A1111PromptParser(), Map.of(Plugin.NAME, PromptParser.DEFAULT));
        conditioner.addEmbeddingSource(new EmbeddingFolder(embeddings));
        engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", modelDir.toAbsolutePath().toString());
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        engine.register(Sampler.class, new EulerSampler(), "euler", "Euler");
        engine.register(GenerationMode.class, new Txt2ImgMode(), "txt2img", "txt2img");
        engine.register(TextConditioner.class, conditioner, "clip", "CLIP");
        model = new OnnxModel(ModelFolder.open(modelDir), new OnnxRuntime(OnnxRuntime.Device.CPU));
        table = table(TextEncoderGraph.read(modelDir.resolve("text_encoder/model.onnx")));
        tokenizer = ToyTokenizer.load(modelDir.resolve("tokenizer"));
    }

    @AfterAll
    static void stop() {
        model.close();
        engine.deactivate();
    }

    static float[] table(ModelProto m) {
        TensorProto t = m.getGraph().getInitializerList().stream()
                .filter(x -> x.getName().equals(TextEncoderGraph.TABLE)).findFirst().orElseThrow();
        float[] out = new float[(int) (t.getDims(0) * t.getDims(1))];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static float[] row(String word) {
        int id = tokenizer.id(word + "</w>");
        float[] r = new float[W];
        System.arraycopy(table, id * W, r, 0, W);
        return r;
    }

    /** The toy embedding of "orange" plus that of "star": one vector that means both. */
    static float[] orangeStar() {
        float[] o = row("orange");
        float[] s = row("star");
        float[] v = new float[W];
        for (int i = 0; i < W; i++) {
            v[i] = o[i] + s[i];
        }
        return v;
    }

    /** A safetensors file, {@code {name: F32 [vectors, width]}}, in the format's byte layout. */
    static void safetensors(Path file, String name, float[][] vectors) throws IOException {
        int n = vectors.length;
        int w = vectors[0].length;
        String header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + n + "," + w + "],\"data_offsets\":[0,"
                + (n * w * 4) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + n * w * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (float[] v : vectors) {
            for (float f : v) {
                b.putFloat(f);
            }
        }
        Path partial = file.resolveSibling(file.getFileName() + ".part");
        Files.write(partial, b.array());
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE); // whole or not there, as a download would land
    }

    private static GenerationResult generate(String prompt, long seed, Map<String, Object> params) {
        return engine.generate(new GenerationRequest(null, prompt, null, "euler", null, 20, 7.5, Long.toString(seed),
                512, 512, 1, null, params), null);
    }

    private static BufferedImage image(String prompt, long seed) throws IOException {
        return EngineToyWorldTest.image(generate(prompt, seed, null), 0);
    }

    @Test
    void anEmbeddingOfOrangePlusStarDrawsAnOrangeStarAndWorksOnceDroppedIn() throws IOException {
        Path file = embeddings.resolve("my-thing.safetensors");
        Files.deleteIfExists(file);
        String prompt = "a my-thing on a purple background";
        // before the file is there, "my-thing" is only words: no orange, no star asked for
        BufferedImage without = image(prompt, 1);

        int wordsCount = engine.countTokens(null, "a my-thing");
        safetensors(file, "emb_params", new float[][] {orangeStar()});
        assertEquals(2, engine.countTokens(null, "a my-thing"), "one vector counts as one token (words: " + wordsCount + ")");
        assertTrue(wordsCount > 2);
        for (long seed : new long[] {1, 2}) {
            BufferedImage img = image(prompt, seed);
            EngineToyWorldTest.assertScene(img, "orange", "purple");
            BufferedImage reference = image("an orange star on a purple background", seed);
            double same = EngineToyWorldTest.sameColours(img, reference);
            assertTrue(same > 0.97, "the embedding draws the scene the words draw: " + same);
            assertEquals(same, EngineToyWorldTest.sameColours(image("a <my-thing> on a purple background", seed), reference), 1e-9,
                    "InvokeAI's <word> is the same embedding");
        }
        assertTrue(EngineToyWorldTest.sameColours(without, image(prompt, 1)) < 0.97, "the file made the difference");

        Files.delete(file); // removed: the words are only words again
        assertEquals(1.0, EngineToyWorldTest.sameColours(without, image(prompt, 1)), 1e-9);
    }

    /** The same vector in every file format A1111 and diffusers save: each one draws the orange star. */
    @Test
    void everyFormatDrawsTheOrangeStar() throws Exception {
        float[] v = orangeStar();
        Fixtures.T t = Fixtures.T.f32(new float[][] {v});
        Path st = embeddings.resolve("fmt-thing.safetensors");
        Path pt = embeddings.resolve("fmt-thing.pt");
        Path binZip = embeddings.resolve("fmt-thing.bin");
        String prompt = "a fmt-thing on a purple background";
        java.util.List<Runnable> writers = java.util.List.of(
                () -> io(() -> Fixtures.safetensors(st, Map.of("<fmt-thing>", Fixtures.T.vector("F32", v)), null)),
                () -> io(() -> Fixtures.a1111Pt(pt, "fmt-thing", t)),
                () -> io(() -> Fixtures.torchZip(binZip, Fixtures.tensorDict(Map.of("<fmt-thing>", t)), Map.of("0", t.bytes()))),
                () -> io(() -> Fixtures.torchLegacy(binZip, Map.of("<fmt-thing>", Fixtures.T.vector("F32", v)))));
        BufferedImage reference = image("an orange star on a purple background", 1);
        for (int i = 0; i < writers.size(); i++) {
            for (Path p : java.util.List.of(st, pt, binZip)) {
                Files.deleteIfExists(p);
            }
            writers.get(i).run();
            BufferedImage img = image(prompt, 1);
            EngineToyWorldTest.assertScene(img, "orange", "purple");
            assertTrue(EngineToyWorldTest.sameColours(img, reference) > 0.97, "format " + i);
        }
        for (Path p : java.util.List.of(st, pt, binZip)) {
            Files.deleteIfExists(p);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void io(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theEncoderWithExtraRowsGivesTheRowsWhereTheirIdsAre() {
        TextModel text = model.textModel(1);
        int vocab = text.vocabularySize();
        assertEquals(tokenizer.vocabSize(), vocab);
        long[] ids = new long[77];
        int[] padded = tokenizer.encodePadded("a");
        for (int i = 0; i < 77; i++) {
            ids[i] = padded[i];
        }
        ids[2] = vocab + 1; // the second extra row
        float[][] rows = {row("red"), orangeStar()};
        float[] h = text.encode(ids, 1, rows);
        float[] plain = text.encode(padIds(ids), 1);
        // the state at the new id is the final norm of (row + foreground orange), not the plain EOS state
        assertTrue(Math.abs(h[2 * W + 7 + 1] - plain[2 * W + 7 + 1]) > 0.5, "orange colour feature");
        // the pooled state is still the one at the first EOS: argmax(input_ids) does not see the new, larger id
        assertTrue(pooledAtEos(ids, rows), "pooler_output at the EOS");
        // the same rows again: the cached session gives the same numbers
        assertArrayEquals(h, text.encode(ids, 1, rows), 0f);
        // tokens of the vocabulary are unchanged by the extra rows
        for (int d = 0; d < W; d++) {
            assertEquals(plain[W + d], h[W + d], 1e-6f);
        }
    }

    /** Runs the rebuilt graph itself and checks pooler_output against the state at the first EOS. */
    private static boolean pooledAtEos(long[] ids, float[][] rows) {
        try {
            ModelProto m = TextEncoderGraph.appendTokenRows(TextEncoderGraph.read(modelDir.resolve("text_encoder/model.onnx")),
                    rows, modelDir.resolve("text_encoder"));
            ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
            int[] i32 = new int[ids.length];
            for (int i = 0; i < ids.length; i++) i32[i] = (int) ids[i];
            int eos = 0;
            while (i32[eos] != tokenizer.eosId()) eos++;
            try (ai.onnxruntime.OrtSession s = env.createSession(m.toByteArray(), new ai.onnxruntime.OrtSession.SessionOptions());
                 ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.IntBuffer.wrap(i32),
                         new long[] {1, ids.length});
                 ai.onnxruntime.OrtSession.Result r = s.run(Map.of("input_ids", t))) {
                float[][][] h = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                float[][] pooled = (float[][]) r.get("pooler_output").orElseThrow().getValue();
                return eos > 2 && java.util.Arrays.equals(h[0][eos], pooled[0]);
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static long[] padIds(long[] ids) {
        long[] p = ids.clone();
        p[2] = tokenizer.eosId();
        return p;
    }

    @Test
    void aWidthMismatchIsAClearError() throws IOException {
        Path file = embeddings.resolve("sd2-thing.safetensors");
        safetensors(file, "emb_params", new float[][] {new float[1024]});
        try {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> generate("a sd2-thing on a purple background", 1, null));
            assertEquals("prompt", e.field());
            assertTrue(e.getMessage().contains("1024") && e.getMessage().contains("768"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    /** A1111's layer norm over the last axis with the model's final_layer_norm weight and bias. */
    static float[] layerNorm(float[] x, float[] weight, float[] bias) {
        float[] out = new float[x.length];
        for (int t = 0; t < x.length / W; t++) {
            double mean = 0;
            for (int d = 0; d < W; d++) {
                mean += x[t * W + d];
            }
            mean /= W;
            double var = 0;
            for (int d = 0; d < W; d++) {
                double c = x[t * W + d] - mean;
                var += c * c;
            }
            var /= W;
            for (int d = 0; d < W; d++) {
                out[t * W + d] = (float) ((x[t * W + d] - mean) / Math.sqrt(var + 1e-5) * weight[d] + bias[d]);
            }
        }
        return out;
    }

    private static float[] initializer(String name) throws IOException {
        TensorProto t = TextEncoderGraph.read(modelDir.resolve("text_encoder/model.onnx")).getGraph()
                .getInitializerList().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
        float[] out = new float[(int) t.getDims(0)];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void clipSkipTwoIsTheFinalNormOfThePenultimateLayer() throws IOException {
        int[] padded = tokenizer.encodePadded("a red circle on a blue background");
        long[] ids = new long[77];
        float[] penultimate = new float[77 * W]; // layers.0 adds zero: its output is the token rows
        for (int i = 0; i < 77; i++) {
            ids[i] = padded[i];
            System.arraycopy(table, padded[i] * W, penultimate, i * W, W);
        }
        float[] expected = layerNorm(penultimate, initializer("text_model.final_layer_norm.weight"),
                initializer("text_model.final_layer_norm.bias"));
        float[] skip2 = model.textModel(2).encode(ids, 1);
        assertArrayEquals(expected, skip2, 2e-5f);
        float[] last = model.textModel(1).encode(ids, 1);
        int red = 2; // "a red ...": BOS, a, red
        assertEquals(1f, last[red * W + 16], 1e-4f, "clip skip 1: red is the foreground colour");
        assertEquals(0f, skip2[red * W + 16], 0.01f, "clip skip 2: before the foreground/background step");
        // clip skip 3 on two layers is the embeddings' output, which layers.0 leaves as it is
        assertArrayEquals(skip2, model.textModel(3).encode(ids, 1), 1e-6f);
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> model.textModel(4).encode(ids, 1));
        assertEquals("clip_skip", e.field());
        assertTrue(e.getMessage().contains("2 layers"), e.getMessage());
    }

    @Test
    void clipSkipThroughTheApiChangesThePictureAndTheInfotext() throws IOException {
        String prompt = "a red circle on a blue background";
        GenerationResult one = generate(prompt, 3, null);
        GenerationResult two = generate(prompt, 3, Map.of("clip_skip", 2));
        EngineToyWorldTest.assertScene(EngineToyWorldTest.image(one, 0), "red", "blue");
        assertNotEquals(1.0, EngineToyWorldTest.sameColours(EngineToyWorldTest.image(one, 0), EngineToyWorldTest.image(two, 0)));
        String info = (String) two.info().get("infotext");
        assertTrue(info.contains(", Clip skip: 2"), info);
        assertFalse(((String) one.info().get("infotext")).contains("Clip skip"));
        for (Object bad : new Object[] {0, 13, 1.5, "two"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> generate(prompt, 3, Map.of("clip_skip", bad)));
            assertEquals("clip_skip", e.field());
        }
    }

    @Test
    void sd2IgnoresClipSkipAsA1111Does() throws Exception {
        Path wide = ToyWorld.ensure(tmp.resolve("sd2"), ToyWorldOptions.defaults().withHiddenWidth(1024));
        try (OnnxModel sd2 = new OnnxModel(ModelFolder.open(wide), new OnnxRuntime(OnnxRuntime.Device.CPU))) {
            TextModel two = sd2.textModel(2);
            assertEquals(1, two.clipSkip(), "OpenCLIP's export already ends at its penultimate layer");
            long[] ids = new long[77];
            int[] padded = tokenizer.encodePadded("a red circle on a blue background");
            for (int i = 0; i < 77; i++) ids[i] = padded[i];
            assertArrayEquals(sd2.textModel(1).encode(ids, 1), two.encode(ids, 1), 0f);
        }
        assertEquals(2, model.textModel(2).clipSkip(), "SD 1.x applies it");
    }

    @Test
    void aTableInAnExternalDataFileKeepsWorking() throws Exception {
        Path copy = tmp.resolve("external-model");
        try (Stream<Path> files = Files.walk(modelDir)) {
            for (Path p : files.toList()) {
                Path target = copy.resolve(modelDir.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        // move the token table and the final norm's weight to text_encoder/weights.pb, as exports over 2 GB
        // store their weights: the table is inlined when rows are added, the weight must still be found
        Path te = copy.resolve("text_encoder/model.onnx");
        ModelProto m = TextEncoderGraph.read(te);
        var g = m.getGraph().toBuilder();
        java.io.ByteArrayOutputStream weights = new java.io.ByteArrayOutputStream();
        weights.write(new byte[64]);
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getName().equals(TextEncoderGraph.TABLE) || t.getName().equals("text_model.final_layer_norm.weight")) {
                byte[] raw = t.getRawData().toByteArray();
                int offset = weights.size();
                weights.write(raw);
                g.setInitializer(i, t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.pb"))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Integer.toString(offset)))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("length")
                                .setValue(Integer.toString(raw.length))));
            }
        }
        Files.write(copy.resolve("text_encoder/weights.pb"), weights.toByteArray());
        try (OutputStream out = Files.newOutputStream(te)) {
            m.toBuilder().setGraph(g).build().writeTo(out);
        }
        try (OnnxModel external = new OnnxModel(ModelFolder.open(copy), new OnnxRuntime(OnnxRuntime.Device.CPU))) {
            long[] ids = new long[77];
            int[] padded = tokenizer.encodePadded("a red circle");
            for (int i = 0; i < 77; i++) {
                ids[i] = padded[i];
            }
            ids[4] = tokenizer.vocabSize();
            float[][] rows = {orangeStar()};
            assertArrayEquals(model.textModel(1).encode(ids, 1, rows), external.textModel(1).encode(ids, 1, rows), 0f);
            assertArrayEquals(model.textModel(2).encode(ids, 1, rows), external.textModel(2).encode(ids, 1, rows), 0f);
        }
    }
}
