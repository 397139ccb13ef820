package io.jdiffusion.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.PluginDescription;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real Javalin server on a loopback port, with a stand-in engine and a folder as the UI bundle. */
class HttpServerTest {
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
    static final AtomicReference<GenerationRequest> LAST = new AtomicReference<>();
    @TempDir
    static Path ui;
    static HttpServer server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static final class FakeEngine implements GenerationService {
        @Override
        public GenerationResult generate(GenerationRequest request, Progress progress) {
            LAST.set(request);
            if ("boom".equals(request.prompt())) {
                throw new IllegalStateException("kaboom");
            }
            if (request.steps() != null && request.steps() > 150) {
                throw new InvalidRequestException("steps", "must be 1..150, got " + request.steps());
            }
            return new GenerationResult(List.of(PNG, PNG), Map.of("seed", "18446744073709551615", "infotext", "x"));
        }

        @Override
        public List<PluginDescription> samplers() {
            return List.of(new PluginDescription("euler", "Euler", "io.jdiffusion.sampler.euler", List.of()),
                    new PluginDescription("ddim", "DDIM", "io.jdiffusion.sampler.ddim",
                            List.of(new ParameterSpec("eta", 0, 0, 1, "noise"),
                                    new ParameterSpec("s_tmax", Double.POSITIVE_INFINITY, 0, Double.POSITIVE_INFINITY, "t"))));
        }

        @Override
        public List<PluginDescription> modes() {
            return List.of(new PluginDescription("txt2img", "txt2img", "b", List.of()));
        }

        @Override
        public List<PluginDescription> schedules() {
            return List.of();
        }

        @Override
        public byte[] estimateDepth(String model, Object image) {
            if (!"a".equals(image)) {
                throw new InvalidRequestException("init_image", "not an image");
            }
            return PNG;
        }

        @Override
        public List<Map<String, Object>> models() {
            return List.of(Map.of("id", "toy", "path", "/m", "family", "sd1", "width", 512, "height", 512, "loaded", true));
        }

        @Override
        public Map<String, Object> health() {
            return Map.of("provider", "CPU");
        }

        @Override
        public int countTokens(String model, String prompt) {
            return prompt.isEmpty() ? 0 : prompt.split(" ").length;
        }
    }

    static final class Folder implements WebUiFiles.Source {
        @Override
        public URL find(String relativePath) {
            Path p = ui.resolve(relativePath);
            try {
                return Files.isRegularFile(p) ? p.toUri().toURL() : null;
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean present() {
            return true;
        }
    }

    @BeforeAll
    static void start() throws IOException {
        Files.writeString(ui.resolve("index.html"), "<!doctype html><title>t</title>");
        Files.writeString(ui.resolve("app.js"), "console.log(1)");
        Files.createDirectories(ui.resolve("sub"));
        Files.writeString(ui.resolve("sub/style.css"), "body{}");
        Files.writeString(ui.getParent().resolve("secret.txt"), "secret");
        server = HttpServer.start(new FakeEngine(), new Folder(), "127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void txt2imgReturnsBase64ImagesAndInfo() throws Exception {
        HttpResponse<String> r = post("/api/v1/txt2img",
                "{\"prompt\": \"a red circle\", \"seed\": \"1\", \"sampler\": \"euler\", \"steps\": 20, \"eta\": 0.25}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals(2, body.get("images").size());
        assertArrayEquals(PNG, Base64.getDecoder().decode(body.get("images").get(0).asText()));
        assertEquals("18446744073709551615", body.get("info").get("seed").asText());
        GenerationRequest seen = LAST.get();
        assertEquals("txt2img", seen.mode());
        assertEquals("1", seen.seed());
        assertEquals(20, seen.steps());
        assertEquals(Map.of("eta", 0.25), seen.params());
    }

    @Test
    void img2imgPassesTheImageAndStrengthToTheImg2imgMode() throws Exception {
        HttpResponse<String> r = post("/api/v1/img2img", "{\"prompt\": \"a blue square\", \"steps\": 20,"
                + " \"init_image\": \"data:image/png;base64,iVBORw0KGgo=\", \"strength\": 0.8, \"resize_mode\": 1}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(2, json(r).get("images").size());
        GenerationRequest seen = LAST.get();
        assertEquals("img2img", seen.mode());
        assertEquals(20, seen.steps());
        assertEquals(Map.of("init_image", "data:image/png;base64,iVBORw0KGgo=", "strength", 0.8, "resize_mode", 1),
                seen.params());
    }

    @Test
    void img2imgTakesAMultipartFormWithTheImageAsAFilePart() throws Exception {
        String boundary = "----jdiffusion-test";
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        String text = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n42\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"strength\"\r\n\r\n0.8\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"steps\"\r\n\r\n12\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"seed\"\r\n\r\n18446744073709551615\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"init_image\"; filename=\"a.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n";
        body.write(text.getBytes(StandardCharsets.UTF_8));
        body.write(PNG);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/api/v1/img2img")).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        GenerationRequest seen = LAST.get();
        assertEquals("img2img", seen.mode());
        assertEquals("42", seen.prompt());
        assertEquals(12, seen.steps());
        assertEquals("18446744073709551615", seen.seed());
        assertEquals(0.8, ((Number) seen.params().get("strength")).doubleValue());
        assertEquals(Base64.getEncoder().encodeToString(PNG), seen.params().get("init_image"));
    }

    @Test
    void inpaintGoesToTheInpaintMode() throws Exception {
        HttpResponse<String> r = post("/api/v1/inpaint", "{\"prompt\": \"p\", \"init_image\": \"a\", \"mask\": \"b\", \"mask_blur\": 2}");
        assertEquals(200, r.statusCode(), r.body());
        GenerationRequest seen = LAST.get();
        assertEquals("inpaint", seen.mode());
        assertEquals(Map.of("init_image", "a", "mask", "b", "mask_blur", 2), seen.params());
    }

    /** One endpoint for every image mode: the body's mode wins, and is not passed on as a mode input. */
    @Test
    void img2imgWithABodyModeGoesToThatMode() throws Exception {
        HttpResponse<String> r = post("/api/v1/img2img", "{\"prompt\": \"p\", \"mode\": \"depth2img\", \"init_image\": \"a\", "
                + "\"depth_map\": \"d\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("depth2img", LAST.get().mode());
        assertEquals(Map.of("init_image", "a", "depth_map", "d"), LAST.get().params());
        r = post("/api/v1/depth2img", "{\"prompt\": \"p\", \"init_image\": \"a\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("depth2img", LAST.get().mode());
        r = post("/api/v1/img2img", "{\"prompt\": \"p\", \"mode\": 3, \"init_image\": \"a\"}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("mode", json(r).get("field").asText());
    }

    @Test
    void depthPreviewReturnsTheEnginesPng() throws Exception {
        HttpResponse<String> r = post("/api/v1/depth", "{\"init_image\": \"a\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertArrayEquals(PNG, Base64.getDecoder().decode(json(r).get("image").asText()));
        r = post("/api/v1/depth", "{\"init_image\": \"zz\"}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("init_image", json(r).get("field").asText());
    }

    @Test
    void badJsonAndWrongTypesAre400NamingTheField() throws Exception {
        HttpResponse<String> r = post("/api/v1/txt2img", "{\"prompt\": ");
        assertEquals(400, r.statusCode());
        assertEquals("body", json(r).get("field").asText());
        r = post("/api/v1/txt2img", "{\"cfg_scale\": \"high\"}");
        assertEquals(400, r.statusCode());
        JsonNode body = json(r);
        assertEquals("cfg_scale", body.get("field").asText());
        assertTrue(body.get("error").asText().contains("cfg_scale"), body.toString());
    }

    @Test
    void engineValidationIs400AndFailuresAre500() throws Exception {
        HttpResponse<String> r = post("/api/v1/txt2img", "{\"steps\": 999}");
        assertEquals(400, r.statusCode());
        assertEquals("steps", json(r).get("field").asText());
        r = post("/api/v1/txt2img", "{\"prompt\": \"boom\"}");
        assertEquals(500, r.statusCode());
        assertTrue(json(r).get("error").asText().contains("kaboom"), r.body());
    }

    @Test
    void listings() throws Exception {
        JsonNode samplers = json(get("/api/v1/samplers"));
        assertEquals("euler", samplers.get(0).get("id").asText());
        assertEquals("Euler", samplers.get(0).get("label").asText());
        JsonNode eta = samplers.get(1).get("parameters").get(0);
        assertEquals("eta", eta.get("name").asText());
        assertEquals(0.0, eta.get("default").asDouble());
        assertEquals(1.0, eta.get("max").asDouble());
        JsonNode tmax = samplers.get(1).get("parameters").get(1);
        assertTrue(tmax.get("max").isNull() && tmax.get("default").isNull(), tmax.toString());
        assertEquals(0.0, tmax.get("min").asDouble());
        JsonNode schema = samplers.get(1).get("schema");
        assertEquals("object", schema.get("type").asText());
        assertEquals(1.0, schema.at("/properties/eta/maximum").asDouble());
        assertEquals("number", schema.at("/properties/eta/type").asText());
        assertTrue(schema.at("/properties/s_tmax/maximum").isMissingNode(), schema.toString());
        assertEquals("txt2img", json(get("/api/v1/modes")).get(0).get("id").asText());
        assertEquals(0, json(get("/api/v1/schedules")).size());
        assertEquals("toy", json(get("/api/v1/models")).get(0).get("id").asText());
        JsonNode health = json(get("/api/v1/health"));
        assertEquals("ok", health.get("status").asText());
        assertEquals("CPU", health.get("provider").asText());
        assertEquals(3, json(get("/api/v1/tokens?prompt=a%20red%20circle&model=toy")).get("tokens").asInt());
        assertEquals(0, json(get("/api/v1/tokens")).get("tokens").asInt());
        HttpResponse<String> missing = get("/api/v1/nothing");
        assertEquals(404, missing.statusCode());
        assertTrue(json(missing).get("error").asText().contains("/api/v1/nothing"));
    }

    @Test
    void staticFiles() throws Exception {
        HttpResponse<String> index = get("/");
        assertEquals(200, index.statusCode());
        assertEquals("text/html;charset=utf-8", index.headers().firstValue("Content-Type").orElseThrow().replace(" ", ""));
        assertTrue(index.body().contains("<title>t</title>"));
        HttpResponse<String> js = get("/app.js");
        assertEquals(200, js.statusCode());
        assertEquals("text/javascript;charset=utf-8", js.headers().firstValue("Content-Type").orElseThrow().replace(" ", ""));
        assertEquals("body{}", get("/sub/style.css").body());
        assertEquals(404, get("/nope.js").statusCode());
        assertEquals(404, get("/sub").statusCode());
        assertEquals(404, get("/sub/").statusCode());
        // Jetty itself answers 400 to some of these (ambiguous URIs); never the file
        for (String p : new String[] {"/%2e%2e/secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt",
                "/sub/..%5c..%5csecret.txt", "/../secret.txt"}) {
            HttpResponse<String> r = get(p);
            assertTrue(r.statusCode() == 404 || r.statusCode() == 400, p + " -> " + r.statusCode());
            assertTrue(!r.body().contains("secret") || r.body().contains("Not found"), p + " -> " + r.body());
        }
    }

    @Test
    void withoutTheUiBundleTheRootSaysSo() throws Exception {
        WebUiFiles.Source none = new WebUiFiles.Source() {
            @Override
            public URL find(String relativePath) {
                return null;
            }

            @Override
            public boolean present() {
                return false;
            }
        };
        try (HttpServer bare = HttpServer.start(new FakeEngine(), none, "127.0.0.1", 0)) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + bare.port() + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("io.jdiffusion.webui"), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        }
    }
}
