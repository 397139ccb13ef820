package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Textual inversion on the toy SDXL model, with an SDXL embedding file ({@code clip_l} + {@code clip_g}) through the
 * real embeddings folder, CLIP conditioner and both toy text encoders rebuilt by ONNX Runtime. The toy SDXL UNet reads
 * the shape from text_encoder's part of the states, the foreground colour from text_encoder_2's part and the
 * background from text_embeds (docs/toy-world.md): so each encoder must get its own vectors, and text_embeds must
 * still pool up to the EOS.
 */
class XlTextualInversionToyWorldTest {
    static final int L = 768;
    static final int G = ToyWorldOptions.XL_SECOND_WIDTH;

    @TempDir
    static Path tmp;
    private static Path modelDir;
    private static Path embeddings;
    private static Engine engine;
    private static ClipConditioner conditioner;
    private static OnnxModel model;
    private static float[] tableL;
    private static float[] tableG;
    private static ToyTokenizer tokenizer;

    @BeforeAll
    static void start() throws Exception {
        modelDir = ToyWorld.ensure(Path.of("target", "toy-world-xlti"), ToyWorldOptions.sdxl());
        embeddings = Files.createDirectories(tmp.resolve("embeddings"));
        conditioner = new ClipConditioner();
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
        tableL = table("text_encoder");
        tableG = table("text_encoder_2");
        tokenizer = ToyTokenizer.load(modelDir.resolve("tokenizer"));
    }

    @AfterAll
    static void stop() {
        model.close();
        engine.deactivate();
    }

    /** The token table each encoder's graph holds, read from the graph itself. */
    private static float[] table(String part) throws IOException {
        TensorProto t = TextEncoderGraph.read(modelDir.resolve(part).resolve("model.onnx")).getGraph()
                .getInitializerList().stream().filter(x -> x.getName().equals(TextEncoderGraph.TABLE))
                .findFirst().orElseThrow();
        float[] out = new float[(int) (t.getDims(0) * t.getDims(1))];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The sum of the words' rows in one encoder's table: one vector that means all of them there. */
    private static float[] rows(float[] table, int width, String... words) {
        float[] v = new float[width];
        for (String word : words) {
            int id = tokenizer.id(word + "</w>");
            for (int d = 0; d < width; d++) {
                v[d] += table[id * width + d];
            }
        }
        return v;
    }

    /** An SDXL embedding as A1111 and kohya save it: {clip_g: F32 [1, 1280], clip_l: F32 [1, 768]}. */
    private static Path pair(String name, float[] clipL, float[] clipG) throws IOException {
        Path file = embeddings.resolve(name + ".safetensors");
        Map<String, Fixtures.T> tensors = new LinkedHashMap<>();
        tensors.put("clip_g", Fixtures.T.f32(new float[][] {clipG}));
        tensors.put("clip_l", Fixtures.T.f32(new float[][] {clipL}));
        Fixtures.safetensors(file, tensors, null);
        return file;
    }

    private static GenerationResult generate(String prompt, long seed) {
        return engine.generate(new GenerationRequest(null, prompt, null, "euler", null, 20, 7.5, Long.toString(seed),
                512, 512, 1, null, null), null);
    }

    private static BufferedImage image(String prompt, long seed) throws IOException {
        return EngineToyWorldTest.image(generate(prompt, seed), 0);
    }

    @Test
    void anSdxlPairOfOrangeStarDrawsAnOrangeStarOnPurple() throws IOException {
        String prompt = "a my-thing on a purple background";
        BufferedImage without = image(prompt, 1);
        int wordsCount = engine.countTokens(null, "a my-thing");
        Path file = pair("my-thing", rows(tableL, L, "orange", "star"), rows(tableG, G, "orange", "star"));
        try {
            assertEquals(2, engine.countTokens(null, "a my-thing"), "one vector is one token (words: " + wordsCount + ")");
            assertTrue(wordsCount > 2);
            for (long seed : new long[] {1, 2}) {
                BufferedImage img = image(prompt, seed);
                // purple comes from text_embeds: pooled up to the EOS, not up to the new (larger) id
                EngineToyWorldTest.assertScene(img, "orange", "purple");
                BufferedImage reference = image("an orange star on a purple background", seed);
                double same = EngineToyWorldTest.sameColours(img, reference);
                assertTrue(same > 0.97, "the embedding draws the scene the words draw: " + same);
                assertEquals(same, EngineToyWorldTest.sameColours(image("a <my-thing> on a purple background", seed), reference), 1e-9,
                        "InvokeAI's <word> is the same embedding");
            }
            assertTrue(EngineToyWorldTest.sameColours(without, image(prompt, 1)) < 0.97, "the file made the difference");
        } finally {
            Files.delete(file);
        }
        assertEquals(1.0, EngineToyWorldTest.sameColours(without, image(prompt, 1)), 1e-9, "removed: only words again");
    }

    /**
     * clip_l carries "star" (text_encoder: the shape), clip_g "green circle" (text_encoder_2: the colour): the
     * picture is a green star, so each encoder took its own vectors and not the other's.
     */
    @Test
    void eachEncoderTakesItsOwnVectors() throws IOException {
        Path file = pair("mixed-thing", rows(tableL, L, "star"), rows(tableG, G, "green", "circle"));
        try {
            BufferedImage img = image("a mixed-thing on a white background", 3);
            EngineToyWorldTest.assertScene(img, "green", "white");
            double star = EngineToyWorldTest.sameColours(img, image("a green star on a white background", 3));
            double circle = EngineToyWorldTest.sameColours(img, image("a green circle on a white background", 3));
            assertTrue(star > 0.97, "the shape is text_encoder's: " + star);
            assertTrue(circle < star, "not the circle of clip_g: " + circle + " vs " + star);
        } finally {
            Files.delete(file);
        }
    }

    /**
     * text_encoder_2 with a new id whose row is "orange"'s gives exactly what the word gives: hidden states and
     * text_embeds (the rebuilt graph's pooling ignores the new, larger id); and text_encoder the same.
     */
    @Test
    void bothEncodersLookTheNewIdsUpInTheirOwnRows() {
        TextModel first = model.textModel(1);
        TextModel second = first.secondEncoder();
        int vocab = tokenizer.vocabSize();
        assertEquals(vocab, first.vocabularySize());
        assertEquals(vocab, second.vocabularySize());
        int[] padded = tokenizer.encodePadded("a orange star on a purple background");
        long[] words = new long[77];
        for (int i = 0; i < 77; i++) {
            words[i] = padded[i];
        }
        long[] withId = words.clone();
        withId[2] = vocab + 1; // the second extra row
        float[][] rowsG = {rows(tableG, G, "red"), rows(tableG, G, "orange")};
        TextModel.Output expected = second.encodeWithPooled(words, 1);
        TextModel.Output got = second.encodeWithPooled(withId, 1, rowsG);
        assertArrayEquals(expected.hidden(), got.hidden(), 1e-5f);
        assertArrayEquals(expected.pooled(), got.pooled(), 1e-4f);
        assertArrayEquals(got.pooled(), second.encodeWithPooled(withId, 1, rowsG).pooled(), 0f, "cached session");
        float[][] rowsL = {rows(tableL, L, "red"), rows(tableL, L, "orange")};
        assertArrayEquals(first.encode(words, 1), first.encode(withId, 1, rowsL), 1e-5f);
        // the rows of the other encoder are refused, not read as something else
        assertThrows(RuntimeException.class, () -> second.encodeWithPooled(withId, 1, rowsL));
    }

    @Test
    void anSd1EmbeddingOnSdxlIsAClearErrorNamingTheWidths() throws IOException {
        Path file = embeddings.resolve("sd1-thing.safetensors");
        Fixtures.safetensors(file, Map.of("emb_params", Fixtures.T.f32(new float[][] {new float[L]})), null);
        try {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> generate("a sd1-thing on a purple background", 1));
            assertEquals("prompt", e.field());
            assertTrue(e.getMessage().contains("768") && e.getMessage().contains("1280"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    /** A1111 registers an embedding only when its widths sum to the model's: an SDXL pair is not for SD 1.x. */
    @Test
    void anSdxlPairOnSd1IsAClearErrorNamingTheWidths() throws Exception {
        Path sd1 = ToyWorld.ensure(Path.of("target", "toy-world-xlti-sd1"), ToyWorldOptions.defaults());
        Path file = pair("xl-thing", new float[L], new float[G]);
        try (OnnxModel m = new OnnxModel(ModelFolder.open(sd1), new OnnxRuntime(OnnxRuntime.Device.CPU))) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> conditioner.schedule(m.textModel(1), "a xl-thing", "", 1));
            assertEquals("prompt", e.field());
            assertTrue(e.getMessage().contains("768 and 1280") && e.getMessage().contains("is 768 wide"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    /**
     * A two-vector pair whose vectors are each encoder's rows of "orange" and "star" conditions exactly as the words
     * do: hidden states of both encoders side by side and text_embeds, also on a float16 folder whose weights are in
     * Optimum's model.onnx_data (the table is read from there and inlined with the new rows).
     */
    @Test
    void aTwoVectorPairConditionsAsItsWords() throws Exception {
        Path fp16 = ToyWorld.ensure(Path.of("target", "toy-world-xlti-fp16-data"), ToyWorldOptions.sdxl()
                .withPrecision(ToyWorldOptions.Precision.FLOAT16).withWeights(ToyWorldOptions.WeightsLayout.ONNX_DATA));
        Path file = embeddings.resolve("two-thing.safetensors");
        Map<String, Fixtures.T> tensors = new LinkedHashMap<>();
        tensors.put("clip_l", Fixtures.T.f32(new float[][] {rows(tableL, L, "orange"), rows(tableL, L, "star")}));
        tensors.put("clip_g", Fixtures.T.f32(new float[][] {rows(tableG, G, "orange"), rows(tableG, G, "star")}));
        Fixtures.safetensors(file, tensors, null);
        try (OnnxModel half = new OnnxModel(ModelFolder.open(fp16), new OnnxRuntime(OnnxRuntime.Device.CPU))) {
            for (OnnxModel m : java.util.List.of(model, half)) {
                io.jdiffusion.api.Conditioning words = conditioner.condition(m.textModel(1),
                        "a orange star on a purple background", "blurry");
                io.jdiffusion.api.Conditioning pair = conditioner.condition(m.textModel(1),
                        "a two-thing on a purple background", "blurry");
                assertEquals(words.width(), pair.width());
                assertArrayEquals(words.positive(), pair.positive(), 1e-3f, m.id());
                assertArrayEquals(words.pooled(), pair.pooled(), 1e-3f, m.id());
                assertArrayEquals(words.negative(), pair.negative(), 0f, m.id());
            }
        } finally {
            Files.delete(file);
        }
    }
}
