package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.toyworld.ToyTokenizer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Textual inversion through the distribution: the embeddings bundle watches {@code --embeddings DIR} of a
 * running server; a file dropped in is used by the next request and listed by {@code GET /api/v1/embeddings},
 * a malicious pickle is listed as skipped and never runs. Also {@code clip_skip} over HTTP.
 */
@Timeout(600)
class EmbeddingsEndToEndTest {
    private static SdServer sd;
    private static Path embeddings;
    private static Path marker;

    @BeforeAll
    static void start() throws Exception {
        Path root = Files.createTempDirectory(SdServer.targetDir(), "embeddings-");
        embeddings = Files.createDirectories(root.resolve("embeddings"));
        marker = root.resolve("pwned");
        sd = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", ToyModel.dir().toString(), "--embeddings", embeddings.toString());
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    /** The toy embedding of "orange" plus that of "star", read from the toy text encoder's token table. */
    static float[] orangeStar() throws Exception {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(ToyModel.dir().resolve("text_encoder/model.onnx")));
        OnnxMl.TensorProto t = m.getGraph().getInitializerList().stream()
                .filter(x -> x.getName().equals("text_model.embeddings.token_embedding.weight")).findFirst().orElseThrow();
        int w = (int) t.getDims(1);
        float[] table = new float[(int) (t.getDims(0) * w)];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(table);
        ToyTokenizer tok = ToyTokenizer.load(ToyModel.dir().resolve("tokenizer"));
        int orange = tok.id("orange</w>");
        int star = tok.id("star</w>");
        float[] v = new float[w];
        for (int d = 0; d < w; d++) v[d] = table[orange * w + d] + table[star * w + d];
        return v;
    }

    /** Writes a file next to its final name and moves it in, as a finished download lands. */
    static void drop(Path file, byte[] bytes) throws Exception {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        Files.write(part, bytes);
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A diffusers-style safetensors file {@code {"<name>": F32 [width]}}. */
    static byte[] safetensors(String key, float[] v) {
        byte[] h = ("{\"" + key + "\":{\"dtype\":\"F32\",\"shape\":[" + v.length + "],\"data_offsets\":[0,"
                + v.length * 4 + "]}}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    /** A torch.save zip whose pickle calls {@code posix.system("touch MARKER")} when Python loads it. */
    static byte[] maliciousPt() throws Exception {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[] {(byte) 0x80, 2}); // PROTO 2
        p.writeBytes("cposix\nsystem\n(".getBytes(StandardCharsets.US_ASCII)); // GLOBAL, MARK
        byte[] cmd = ("touch " + marker).getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(cmd.length).array());
        p.writeBytes(cmd);
        p.writeBytes("tR.".getBytes(StandardCharsets.US_ASCII)); // TUPLE, REDUCE, STOP
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            for (Map.Entry<String, byte[]> e : Map.of("archive/data.pkl", p.toByteArray(),
                    "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII)).entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                z.putNextEntry(entry);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return zip.toByteArray();
    }

    private static Http.Response txt2img(String prompt, Object clipSkip) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", prompt);
        r.put("steps", 20);
        r.put("seed", 1);
        if (clipSkip != null) r.put("clip_skip", clipSkip);
        return Http.post(sd.baseUrl() + "api/v1/txt2img", r);
    }

    private static JsonNode list() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/embeddings");
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    @Test
    void aFileDroppedIntoTheRunningServersFolderIsUsedAndListed() throws Exception {
        assertFalse(list().path("embeddings").toString().contains("my-thing"));
        String prompt = "a my-thing on a purple background";

        drop(embeddings.resolve("my-thing.safetensors"), safetensors("<my-thing>", orangeStar()));
        JsonNode loaded = list().path("embeddings");
        JsonNode mine = null;
        for (JsonNode e : loaded) if (e.path("name").asText().equals("my-thing")) mine = e;
        assertTrue(mine != null, loaded.toString());
        assertEquals(1, mine.path("vectors").asInt());
        assertEquals(768, mine.path("width").asInt());
        assertEquals("my-thing.safetensors", mine.path("file").asText());

        Http.Response res = txt2img(prompt, null);
        assertEquals(200, res.status(), res.body());
        BufferedImage img = Png.image(Http.firstImage(res.json()));
        assertEquals("orange", Png.centre(img));
        assertEquals("purple", Png.colourAt(img, 4, 4));
    }

    @Test
    void aMaliciousPickleIsSkippedWithTheReasonAndNeverRuns() throws Exception {
        drop(embeddings.resolve("evil.pt"), maliciousPt());
        JsonNode skipped = list().path("skipped");
        JsonNode evil = null;
        for (JsonNode s : skipped) if (s.path("file").asText().equals("evil.pt")) evil = s;
        assertTrue(evil != null, skipped.toString());
        assertTrue(evil.path("reason").asText().contains("posix.system"), evil.toString());
        Http.Response res = txt2img("an evil circle on a white background", null);
        assertEquals(200, res.status(), res.body());
        assertFalse(Files.exists(marker), "nothing in the pickle may run");
    }

    @Test
    void aWidthMismatchIsA400NamingBothWidths() throws Exception {
        drop(embeddings.resolve("sd2-thing.safetensors"), safetensors("emb_params", new float[1024]));
        Http.Response res = txt2img("a sd2-thing on a white background", null);
        assertEquals(400, res.status(), res.body());
        assertEquals("prompt", res.json().path("field").asText());
        String message = res.json().path("error").asText();
        assertTrue(message.contains("1024") && message.contains("768"), message);
    }

    @Test
    void clipSkipOverHttp() throws Exception {
        Http.Response two = txt2img("a red circle on a blue background", 2);
        assertEquals(200, two.status(), two.body());
        assertTrue(two.json().path("info").path("infotext").asText().contains("Clip skip: 2"), two.body());
        Http.Response bad = txt2img("a red circle on a blue background", 0);
        assertEquals(400, bad.status(), bad.body());
        assertEquals("clip_skip", bad.json().path("field").asText());
    }
}
