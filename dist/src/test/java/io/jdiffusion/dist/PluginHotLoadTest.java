package io.jdiffusion.dist;

import static io.jdiffusion.dist.ExamplePlugin.Edit.replace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The plugin SDK end to end: {@code examples/my-sampler} built with Maven as a third party would, dropped into
 * a running server's plugins folder, used over HTTP, replaced by a changed version, deleted; and broken
 * plugins (a throwing service, a throwing component, a wrong API version, junk) reported without harm.
 */
@Timeout(600)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PluginHotLoadTest {
    private static final String SRC = ExamplePlugin.SOURCE;
    private static Path plugins;
    private static SdServer sd;
    private static Path v1;
    private static Path v2;
    private static Path throwingService;
    private static Path throwingComponent;

    @BeforeAll
    static void buildAndStart() throws Exception {
        // four builds of the example at once: the original, a new version, and two broken variants
        ExamplePlugin b1 = ExamplePlugin.copy("my-sampler-v1").startBuild();
        ExamplePlugin b2 = ExamplePlugin.copy("my-sampler-v2",
                replace(SRC, "Plugin.LABEL + \"=My Sampler\"", "Plugin.LABEL + \"=My Sampler 2\""),
                replace("pom.xml", "<version>1.0.0</version>", "<version>1.1.0</version>")).startBuild();
        ExamplePlugin b3 = ExamplePlugin.copy("my-sampler-throws",
                replace("bnd.bnd", "com.example.mysampler", "com.example.throwing"),
                replace(SRC, "=my_sampler\"", "=throwing_sampler\""),
                replace(SRC, "float[] alphasCumprod = config.alphasCumprod();",
                        "if (steps > 0) throw new IllegalStateException(\"broken on purpose\");\n"
                                + "        float[] alphasCumprod = config.alphasCumprod();")).startBuild();
        ExamplePlugin b4 = ExamplePlugin.copy("my-sampler-failing",
                replace("bnd.bnd", "com.example.mysampler", "com.example.failing"),
                replace(SRC, "=my_sampler\"", "=failing_sampler\""),
                replace(SRC, "public class MySampler implements Sampler {",
                        "public class MySampler implements Sampler {\n"
                                + "    public MySampler() { throw new IllegalStateException(\"cannot construct\"); }")).startBuild();
        plugins = Files.createTempDirectory(SdServer.targetDir(), "hot-plugins-");
        sd = SdServer.start(ToyModel.dir(), plugins); // boots while Maven builds
        v1 = b1.jar();
        v2 = b2.jar();
        throwingService = b3.jar();
        throwingComponent = b4.jar();
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    private static Map<String, Object> request(String sampler, int steps) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", "a red circle on a white background");
        r.put("sampler", sampler);
        r.put("steps", steps);
        r.put("seed", 1);
        return r;
    }

    /** Seconds the last {@link #await} took. */
    private static double waited;

    /** GET {@code path} until {@code ok} holds for its JSON (up to 20 s); returns that JSON. */
    private static JsonNode await(String path, Predicate<JsonNode> ok, String what) throws Exception {
        long t0 = System.nanoTime();
        JsonNode last = null;
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) {
            Http.Response r = Http.get(sd.baseUrl() + path);
            assertEquals(200, r.status(), r.body());
            last = r.json();
            if (ok.test(last)) {
                waited = (System.nanoTime() - t0) / 1e9;
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " did not happen within 20 s; last " + path + ": " + last + "\n" + sd.log());
    }

    private static JsonNode sampler(JsonNode samplers, String id) {
        for (JsonNode s : samplers) if (id.equals(s.path("id").asText())) return s;
        return null;
    }

    private static JsonNode bundle(JsonNode plugins, String bsn) {
        for (JsonNode b : plugins) if (bsn.equals(b.path("symbolic_name").asText())) return b;
        return null;
    }

    @Test
    @Order(1)
    void aDroppedInSamplerIsLoadedUsedUpdatedAndRemoved() throws Exception {
        // load
        ExamplePlugin.drop(v1, plugins, "my-sampler.jar");
        await("api/v1/samplers", s -> sampler(s, "my_sampler") != null, "my_sampler appearing");
        System.out.printf("my_sampler listed %.2f s after the jar was dropped in%n", waited);
        assertEquals("My Sampler", sampler(Http.get(sd.baseUrl() + "api/v1/samplers").json(), "my_sampler").path("label").asText());
        JsonNode b = bundle(Http.get(sd.baseUrl() + "api/v1/plugins").json(), "com.example.mysampler");
        assertNotNull(b);
        assertEquals("1.0.0", b.path("version").asText());
        assertEquals("ACTIVE", b.path("state").asText());
        assertEquals("my-sampler.jar", b.path("file").asText());
        assertTrue(b.path("plugin").asBoolean());
        assertTrue(b.path("error").isNull(), b.toString());
        assertEquals("Sampler my_sampler (My Sampler)", b.path("services").get(0).asText(), b.toString());
        long bundleId = b.path("id").asLong();

        // use: it draws the toy world's scene like the built-in samplers do
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("my_sampler", 20));
        assertEquals(200, r.status(), r.body());
        assertEquals("My Sampler", r.json().path("info").path("sampler_label").asText());
        java.awt.image.BufferedImage img = Png.image(Http.firstImage(r.json()));
        assertEquals("red", Png.centre(img), "the circle");
        for (String corner : Png.corners(img)) assertEquals("white", corner, "the background");

        // update in place: same bundle, new version and label
        ExamplePlugin.drop(v2, plugins, "my-sampler.jar");
        await("api/v1/samplers", s -> sampler(s, "my_sampler") != null
                && sampler(s, "my_sampler").path("label").asText().equals("My Sampler 2"), "the update");
        b = bundle(Http.get(sd.baseUrl() + "api/v1/plugins").json(), "com.example.mysampler");
        assertEquals("1.1.0", b.path("version").asText());
        assertEquals(bundleId, b.path("id").asLong(), "updated, not installed again");
        r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("my_sampler", 20));
        assertEquals(200, r.status(), r.body());
        assertEquals("My Sampler 2", r.json().path("info").path("sampler_label").asText());

        // a request running while the jar is deleted finishes on the old code or says the plugin was unloaded
        Map<String, Object> long_ = request("my_sampler", 150);
        long_.put("batch_size", 4);
        CompletableFuture<Http.Response> running = CompletableFuture.supplyAsync(() -> {
            try {
                return Http.post(sd.baseUrl() + "api/v1/txt2img", long_);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(300);
        Files.delete(plugins.resolve("my-sampler.jar"));
        Http.Response during = running.get(120, TimeUnit.SECONDS);
        assertTrue(during.status() == 200 || during.body().contains("was unloaded while this request was running"),
                during.status() + " " + during.body());

        // removed: gone from the lists, and a request naming it is told what there is
        await("api/v1/samplers", s -> sampler(s, "my_sampler") == null, "my_sampler disappearing");
        assertNull(bundle(Http.get(sd.baseUrl() + "api/v1/plugins").json(), "com.example.mysampler"));
        r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("my_sampler", 20));
        assertEquals(400, r.status(), r.body());
        assertEquals("sampler", r.json().path("field").asText());
        String error = r.json().path("error").asText();
        assertTrue(error.contains("unknown sampler 'my_sampler'; available: ") && error.contains("euler"), error);
    }

    @Test
    @Order(2)
    void brokenPluginsAreReportedAndHarmNothing() throws Exception {
        ExamplePlugin.drop(throwingService, plugins, "throwing.jar");
        ExamplePlugin.drop(throwingComponent, plugins, "failing.jar");
        Files.writeString(plugins.resolve("junk.jar"), "not a jar");
        ExamplePlugin.drop(WrongApi.rewrite(v1, SdServer.targetDir().resolve("future.jar")), plugins, "future.jar");

        // a service that throws on every call: its requests fail naming it, the server goes on
        await("api/v1/samplers", s -> sampler(s, "throwing_sampler") != null, "throwing_sampler appearing");
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("throwing_sampler", 10));
        assertEquals(500, r.status(), r.body());
        String error = r.json().path("error").asText();
        assertTrue(error.contains("sampler 'throwing_sampler' (plugin com.example.throwing) failed in plan(): "
                + "IllegalStateException: broken on purpose"), error);

        JsonNode list = await("api/v1/plugins", p -> {
            JsonNode failing = bundle(p, "com.example.failing");
            JsonNode future = bundle(p, "com.example.future");
            return failing != null && !failing.path("error").isNull() && future != null && !future.path("error").isNull()
                    && p.toString().contains("junk.jar");
        }, "the broken plugins being reported");
        JsonNode failing = bundle(list, "com.example.failing");
        assertTrue(failing.path("error").asText().contains("failed to activate")
                && failing.path("error").asText().contains("cannot construct"), failing.toString());
        JsonNode future = bundle(list, "com.example.future");
        assertEquals("INSTALLED", future.path("state").asText());
        assertTrue(future.path("error").asText().contains("incompatible plugin API version: it was built for io.jdiffusion.api [2.0.0,3.0.0)"),
                future.toString());
        for (JsonNode e : list) {
            if (e.path("file").asText().equals("junk.jar")) {
                assertEquals("NOT_INSTALLED", e.path("state").asText());
                assertTrue(e.path("error").asText().contains("not a readable jar"), e.toString());
            }
        }

        // and everything else still works
        r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("euler", 10));
        assertEquals(200, r.status(), r.body());
        assertFalse(sd.log().contains("Exception in thread"), sd.log());
    }
}
