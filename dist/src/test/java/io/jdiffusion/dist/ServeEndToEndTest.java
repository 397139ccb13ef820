package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code serve} end to end: the real distribution in a subprocess, the toy model, HTTP on loopback. */
@Timeout(600)
class ServeEndToEndTest {
    private static SdServer sd;

    @BeforeAll
    static void start() throws Exception {
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        // a jar that is not a bundle: reported and skipped, the server comes up all the same
        Files.writeString(plugins.resolve("junk.jar"), "not a jar at all");
        sd = SdServer.start(ToyModel.dir(), plugins);
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    private static Map<String, Object> request(String prompt, String sampler) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", prompt);
        r.put("sampler", sampler);
        r.put("steps", 20);
        r.put("seed", 1);
        r.put("width", 512);
        r.put("height", 512);
        return r;
    }

    private static JsonNode txt2img(Map<String, Object> request) throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request);
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    @Test
    void healthAnswers() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/health");
        assertEquals(200, r.status(), r.body());
        assertEquals("ok", r.json().path("status").asText(), r.body());
    }

    /** The listing tells the family from the files; unload closes the sessions and the next request reloads. */
    @Test
    void modelsListTheToyAsSd1AndUnloadClosesIt() throws Exception {
        txt2img(request("a red circle", "euler")); // make sure it is loaded
        JsonNode toy = onlyModel();
        assertEquals("sd1", toy.path("family").asText(), toy.toString());
        assertEquals("txt2img", toy.path("variant").asText(), toy.toString());
        assertEquals(512, toy.path("width").asInt(), toy.toString());
        assertEquals(512, toy.path("height").asInt(), toy.toString());
        assertEquals("float32", toy.path("dtype").asText(), toy.toString());
        assertTrue(toy.path("default").asBoolean(), toy.toString());
        assertTrue(toy.path("loaded").asBoolean(), toy.toString());
        assertFalse(toy.path("path").asText().isEmpty(), toy.toString());

        String unload = sd.baseUrl() + "api/v1/models/" + toy.path("id").asText() + "/unload";
        Http.Response r = Http.post(unload, Map.of());
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().path("unloaded").asBoolean(), r.body());
        assertFalse(onlyModel().path("loaded").asBoolean());
        r = Http.post(unload, Map.of());
        assertEquals(200, r.status(), r.body());
        assertFalse(r.json().path("unloaded").asBoolean(), r.body());

        r = Http.post(sd.baseUrl() + "api/v1/models/no-such-model/unload", Map.of());
        assertEquals(404, r.status(), r.body());
        assertTrue(r.json().path("error").asText().contains("no-such-model"), r.body());

        txt2img(request("a red circle", "euler")); // loads again on use
        assertTrue(onlyModel().path("loaded").asBoolean());
    }

    private static JsonNode onlyModel() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/models");
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().size(), r.body());
        return r.json().get(0);
    }

    @Test
    void samplersListDdimAndEulerWithLabels() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/samplers");
        assertEquals(200, r.status(), r.body());
        Map<String, String> labels = new HashMap<>();
        for (JsonNode s : r.json()) labels.put(s.path("id").asText(), s.path("label").asText());
        assertFalse(labels.getOrDefault("euler", "").isBlank(), r.body());
        assertFalse(labels.getOrDefault("ddim", "").isBlank(), r.body());
    }

    @ParameterizedTest
    @CsvSource({"euler, Euler", "ddim, DDIM"})
    void aRedCircleOnAWhiteBackground(String sampler, String samplerLabel) throws Exception {
        String prompt = "a red circle on a white background";
        byte[] png = Http.firstImage(txt2img(request(prompt, sampler)));
        BufferedImage img = Png.image(png);
        assertEquals(512, img.getWidth());
        assertEquals(512, img.getHeight());
        assertEquals("red", Png.centre(img));
        assertArrayEquals(new String[] {"white", "white", "white", "white"}, Png.corners(img), Arrays.toString(Png.corners(img)));

        String infotext = Png.textChunks(png).get("parameters");
        assertTrue(infotext != null && infotext.startsWith(prompt), "A1111 infotext starts with the prompt: " + infotext);
        String last = infotext.substring(infotext.lastIndexOf('\n') + 1);
        assertTrue(last.startsWith("Steps: 20, Sampler: " + samplerLabel + ", "), infotext);
        assertTrue(last.matches(".*, CFG scale: [0-9.]+, .*"), infotext);
        assertTrue(last.contains(", Seed: 1, "), infotext);
        assertTrue(last.contains(", Size: 512x512"), infotext);
    }

    @Test
    void aBlueCircleIsBlue() throws Exception {
        BufferedImage img = Png.image(Http.firstImage(txt2img(request("a blue circle on a white background", "euler"))));
        assertEquals("blue", Png.centre(img));
        assertEquals("white", Png.corners(img)[0]);
    }

    @Test
    void theSameRequestTwiceGivesTheSameBytes() throws Exception {
        Map<String, Object> req = request("a red circle on a white background", "euler");
        req.put("steps", 8);
        byte[] a = Http.firstImage(txt2img(req));
        byte[] b = Http.firstImage(txt2img(req));
        assertArrayEquals(a, b);
    }

    @Test
    void badRequestsGet400NamingTheField() throws Exception {
        for (String field : new String[] {"steps", "width"}) {
            Map<String, Object> req = request("a red circle on a white background", "euler");
            req.put(field, field.equals("steps") ? 0 : 100);
            Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", req);
            assertEquals(400, r.status(), r.body());
            assertEquals(field, r.json().path("field").asText(), r.body());
            assertTrue(r.json().path("error").asText().contains(field), r.body());
        }
    }

    @Test
    void aJunkJarInPluginsIsSkippedAndTheServerKeepsGoing() throws Exception {
        assertTrue(sd.isAlive());
        assertTrue(sd.log().contains("plugin skipped: junk.jar"), sd.log());
        assertEquals(200, Http.get(sd.baseUrl() + "api/v1/samplers").status());
    }

    @Test
    void theWebUiIsServed() throws Exception {
        Http.Response r = Http.get(sd.baseUrl());
        assertEquals(200, r.status());
        assertTrue(r.body().toLowerCase().contains("<html"), r.body());
    }
}
