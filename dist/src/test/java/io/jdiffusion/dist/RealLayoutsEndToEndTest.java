package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SD 2.x, SDXL, float16 and external-data folders through the real distribution: made by {@code ./sd make-toy-model},
 * generated from by {@code ./sd generate --model DIR} and by the HTTP server's models directory, listed by
 * {@code GET /api/v1/models}.
 */
@Timeout(900)
class RealLayoutsEndToEndTest {
    private static final String PROMPT = "a red circle on a white background";

    private static String run(String... args) throws IOException, InterruptedException {
        return run(0, args);
    }

    private static String run(int expectedCode, String... args) throws IOException, InterruptedException {
        Path log = Files.createTempFile(SdServer.targetDir(), "sd-layouts-", ".log");
        Process p = SdServer.command(List.of(args), Map.of()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("sd " + String.join(" ", args) + " did not finish:\n" + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(expectedCode, p.exitValue(), out);
        return out;
    }

    private static void assertScene(BufferedImage img, String centre, String corners) {
        assertEquals(centre, Png.centre(img), "centre");
        for (String c : Png.corners(img)) {
            assertEquals(corners, c, "corner");
        }
    }

    @Test
    void generateFromAnSdxlFloat16FolderMadeByMakeToyModel() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "layouts-");
        Path model = dir.resolve("sdxl-fp16");
        run("make-toy-model", "--out", model.toString(), "--preset", "sdxl", "--precision", "fp16");
        assertTrue(Files.isRegularFile(model.resolve("text_encoder_2/model.onnx")));
        Path png = dir.resolve("xl.png");
        String out = run("generate", "--prompt", PROMPT, "--steps", "20", "--seed", "2", "--model", model.toString(),
                "--plugins", dir.resolve("plugins").toString(), "--out", png.toString());
        assertTrue(out.contains("wrote " + png), out);
        BufferedImage img = Png.image(Files.readAllBytes(png));
        assertEquals(1024, img.getWidth(), "SDXL's default side: sample_size 128 x 8");
        assertEquals(1024, img.getHeight());
        assertScene(img, "red", "white");
    }

    @Test
    void makeToyModelRefusesAnUnknownPresetNamingTheChoices() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "layouts-");
        String out = run(2, "make-toy-model", "--out", dir.resolve("m").toString(), "--preset", "sd3");
        assertTrue(out.contains("--preset must be sd1, sd2 or sdxl, not sd3"), out);
        assertTrue(Files.notExists(dir.resolve("m")), "nothing written");
    }

    @Test
    void serverListsAndServesAModelsDirectoryOfLayouts() throws Exception {
        Path models = Files.createTempDirectory(SdServer.targetDir(), "models-");
        run("make-toy-model", "--out", models.resolve("sd1").toString());
        run("make-toy-model", "--out", models.resolve("sd2").toString(), "--preset", "sd2", "--weights", "weights_pb");
        run("make-toy-model", "--out", models.resolve("xl-data").toString(), "--preset", "sdxl", "--weights", "onnx_data");
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer sd = SdServer.start(plugins, Map.of(), "--model", models.resolve("sd1").toString(),
                "--models-dir", models.toString())) {
            Http.Response list = Http.get(sd.baseUrl() + "api/v1/models");
            assertEquals(200, list.status(), list.body());
            Map<String, List<Object>> seen = new LinkedHashMap<>();
            for (JsonNode m : list.json()) {
                seen.put(m.get("id").asText(), List.of(m.get("family").asText(), m.get("width").asInt(),
                        m.get("height").asInt(), m.get("dtype").asText(), m.get("prediction_type").asText()));
            }
            assertEquals(List.of("sd1", 512, 512, "float32", "epsilon"), seen.get("sd1"), seen.toString());
            assertEquals(List.of("sd2", 768, 768, "float32", "v_prediction"), seen.get("sd2"), seen.toString());
            assertEquals(List.of("sdxl", 1024, 1024, "float32", "epsilon"), seen.get("xl-data"), seen.toString());

            // the model's own default size (no width/height), then a smaller SDXL picture
            BufferedImage sd2 = txt2img(sd, "sd2", null);
            assertEquals(768, sd2.getWidth());
            assertScene(sd2, "red", "white");
            BufferedImage xl = txt2img(sd, "xl-data", 512);
            assertEquals(512, xl.getWidth());
            assertScene(xl, "red", "white");
        }
    }

    private static BufferedImage txt2img(SdServer sd, String model, Integer side) throws Exception {
        Map<String, Object> body = new HashMap<>();
        body.put("prompt", PROMPT);
        body.put("steps", 20);
        body.put("seed", 3);
        body.put("model", model);
        if (side != null) {
            body.put("width", side);
            body.put("height", side);
        }
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", body);
        assertEquals(200, r.status(), r.body());
        byte[] png = Http.firstImage(r.json());
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        return Png.image(png);
    }
}
