package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.toyworld.ToyTokenizer;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Textual inversion on an SDXL model through the distribution: an SDXL embedding file ({@code clip_l} +
 * {@code clip_g}, kohya's and A1111's safetensors layout) dropped into a running server's embeddings folder draws the
 * toy scene its vectors mean, each text encoder taking its own vectors; an SD 1.x embedding is a 400.
 */
@Timeout(600)
class XlEmbeddingsEndToEndTest {
    private static SdServer sd;
    private static Path embeddings;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        Path root = Files.createTempDirectory(SdServer.targetDir(), "xl-embeddings-");
        embeddings = Files.createDirectories(root.resolve("embeddings"));
        model = ToyWorld.ensure(root.resolve("sdxl"), ToyWorldOptions.sdxl());
        sd = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", model.toString(), "--embeddings", embeddings.toString());
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    /** The sum of the words' rows in the token table of one text encoder's graph. */
    private static float[] rows(String part, String... words) throws Exception {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model.resolve(part).resolve("model.onnx")));
        OnnxMl.TensorProto t = m.getGraph().getInitializerList().stream()
                .filter(x -> x.getName().equals("text_model.embeddings.token_embedding.weight")).findFirst().orElseThrow();
        int w = (int) t.getDims(1);
        float[] table = new float[(int) (t.getDims(0) * w)];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(table);
        ToyTokenizer tok = ToyTokenizer.load(model.resolve("tokenizer"));
        float[] v = new float[w];
        for (String word : words) {
            int id = tok.id(word + "</w>");
            for (int d = 0; d < w; d++) v[d] += table[id * w + d];
        }
        return v;
    }

    /** {@code {name: F32 [1, width], ...}} in safetensors' layout: 8-byte header size, JSON header, the data. */
    private static byte[] safetensors(Map<String, float[]> tensors) {
        StringBuilder json = new StringBuilder("{");
        int offset = 0;
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            int n = e.getValue().length * 4;
            json.append(json.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",")
                    .append("\"shape\":[1,").append(e.getValue().length).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(offset + n).append("]}");
            offset += n;
        }
        byte[] h = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        tensors.values().forEach(v -> {
            for (float f : v) b.putFloat(f);
        });
        return b.array();
    }

    private static Http.Response txt2img(String prompt) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", prompt);
        r.put("steps", 20);
        r.put("seed", 1);
        r.put("width", 512);
        r.put("height", 512);
        return Http.post(sd.baseUrl() + "api/v1/txt2img", r);
    }

    @Test
    void anSdxlPairDrawsWhatItsVectorsMeanInEachEncoder() throws Exception {
        Map<String, float[]> pair = new LinkedHashMap<>();
        pair.put("clip_g", rows("text_encoder_2", "green"));  // text_encoder_2: the foreground colour
        pair.put("clip_l", rows("text_encoder", "square"));   // text_encoder: the shape
        EmbeddingsEndToEndTest.drop(embeddings.resolve("xl-thing.safetensors"), safetensors(pair));
        JsonNode mine = null;
        Http.Response list = Http.get(sd.baseUrl() + "api/v1/embeddings");
        for (JsonNode e : list.json().path("embeddings")) if (e.path("name").asText().equals("xl-thing")) mine = e;
        assertTrue(mine != null, list.body());
        assertTrue(mine.path("widths").toString().contains("768") && mine.path("widths").toString().contains("1280"),
                mine.toString());

        Http.Response res = txt2img("a xl-thing on a purple background");
        assertEquals(200, res.status(), res.body());
        BufferedImage img = Png.image(Http.firstImage(res.json()));
        assertEquals("green", Png.centre(img));
        assertEquals("purple", Png.colourAt(img, 4, 4), "text_embeds pooled to the EOS: the background is the prompt's");
        // a square fills the corner region of its box (0.45 of the half-side on both axes), a circle of radius 0.6
        // leaves it empty: the shape is clip_l's, read by text_encoder, not the words' default
        int off = (int) Math.round(0.45 * Math.min(img.getWidth(), img.getHeight()) / 2);
        int x = img.getWidth() / 2 + off;
        int y = img.getHeight() / 2 + off;
        assertEquals("green", Png.colourAt(img, x, y), "square corner");
        assertEquals("green", Png.colourAt(img, img.getWidth() / 2 - off, img.getHeight() / 2 - off), "square corner");
        Http.Response circle = txt2img("a green circle on a purple background");
        assertEquals(200, circle.status(), circle.body());
        assertEquals("purple", Png.colourAt(Png.image(Http.firstImage(circle.json())), x, y), "outside a circle");
    }

    @Test
    void anSd1EmbeddingOnSdxlIsA400NamingTheWidths() throws Exception {
        EmbeddingsEndToEndTest.drop(embeddings.resolve("sd1-thing.safetensors"),
                safetensors(Map.of("emb_params", new float[768])));
        Http.Response res = txt2img("a sd1-thing on a white background");
        assertEquals(400, res.status(), res.body());
        assertEquals("prompt", res.json().path("field").asText());
        String message = res.json().path("error").asText();
        assertTrue(message.contains("768") && message.contains("1280"), message);
    }
}
