package io.jdiffusion.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.api.EmbeddingSource;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@code GET /api/v1/embeddings} on a real Javalin server: every source's loaded and skipped files, as they are now. */
class EmbeddingsRouteTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void listsLoadedAndSkippedEmbeddingsOfEverySource() throws Exception {
        List<EmbeddingSource> sources = new CopyOnWriteArrayList<>();
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
        try (HttpServer server = HttpServer.start(new HttpServerTest.FakeEngine(), () -> null, () -> sources, noUi,
                "127.0.0.1", 0)) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/api/v1/embeddings");
            HttpResponse<String> empty = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, empty.statusCode(), empty.body());
            assertEquals("{\"embeddings\":[],\"skipped\":[]}", empty.body());

            sources.add(new EmbeddingSource() {
                @Override
                public Map<String, float[][]> embeddings() {
                    return Map.of();
                }

                @Override
                public List<Embedding> loaded() {
                    return List.of(new Embedding("my-thing", new float[3][768], "my-thing.pt"),
                            new Embedding("xl", List.of(new float[2][768], new float[2][1280]), "xl.safetensors"));
                }

                @Override
                public List<Skipped> skipped() {
                    return List.of(new Skipped("evil.pt", "refused pickle: os.system"));
                }
            });
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode json = Json.MAPPER.readTree(r.body());
            assertEquals("{\"name\":\"my-thing\",\"vectors\":3,\"width\":768,\"widths\":[768],\"file\":\"my-thing.pt\"}",
                    json.path("embeddings").get(0).toString());
            assertEquals("[768,1280]", json.path("embeddings").get(1).path("widths").toString());
            assertEquals("{\"file\":\"evil.pt\",\"reason\":\"refused pickle: os.system\"}", json.path("skipped").get(0).toString());
        }
    }
}
