package io.jdiffusion.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.api.service.PluginInventory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@code GET /api/v1/plugins} on a real Javalin server: the inventory as JSON, and 503 while there is none. */
class PluginsRouteTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void servesTheInventoryAndSaysWhenThereIsNone() throws Exception {
        AtomicReference<PluginInventory> inventory = new AtomicReference<>();
        WebUiFiles.Source noUi = new WebUiFiles.Source() {
            @Override
            public java.net.URL find(String relativePath) {
                return null;
            }

            @Override
            public boolean present() {
                return false;
            }
        };
        try (HttpServer server = HttpServer.start(new HttpServerTest.FakeEngine(), inventory::get, noUi, "127.0.0.1", 0)) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/api/v1/plugins");
            HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, none.statusCode(), none.body());
            assertTrue(none.body().contains("plugin inventory is not available"), none.body());

            inventory.set(() -> List.of(
                    new PluginInventory.Entry(7, "com.example.x", "1.2.0", "ACTIVE", "x.jar", true, List.of("Sampler x (X)"), null),
                    new PluginInventory.Entry(-1, null, null, "NOT_INSTALLED", "junk.jar", true, List.of(), "not a readable jar")));
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode json = Json.MAPPER.readTree(r.body());
            assertEquals(2, json.size());
            assertEquals("{\"id\":7,\"symbolic_name\":\"com.example.x\",\"version\":\"1.2.0\",\"state\":\"ACTIVE\","
                    + "\"file\":\"x.jar\",\"plugin\":true,\"services\":[\"Sampler x (X)\"],\"error\":null}", json.get(0).toString());
            assertEquals("not a readable jar", json.get(1).path("error").asText());
            assertTrue(json.get(1).path("symbolic_name").isNull());
        }
    }
}
