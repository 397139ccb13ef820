package io.jdiffusion.server;

import io.javalin.http.Context;
import io.jdiffusion.api.EmbeddingSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/embeddings}: {@code {embeddings: [{name, vectors, width, widths, file}],
 * skipped: [{file, reason}]}}, what every embedding source offers now (the folder is read again on each
 * call, so a file just dropped in or removed shows at once).
 */
final class EmbeddingsHandler {
    private final Supplier<List<EmbeddingSource>> sources;

    EmbeddingsHandler(Supplier<List<EmbeddingSource>> sources) {
        this.sources = sources;
    }

    void list(Context ctx) {
        List<Map<String, Object>> loaded = new ArrayList<>();
        List<Map<String, Object>> skipped = new ArrayList<>();
        for (EmbeddingSource s : sources.get()) {
            for (EmbeddingSource.Embedding e : s.loaded()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", e.name());
                m.put("vectors", e.variants().isEmpty() ? 0 : e.variants().get(0).length);
                m.put("width", e.widths().isEmpty() ? 0 : e.widths().get(0));
                m.put("widths", e.widths()); // two for SDXL: clip_l and clip_g
                m.put("file", e.file());
                loaded.add(m);
            }
            for (EmbeddingSource.Skipped k : s.skipped()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", k.file());
                m.put("reason", k.reason());
                skipped.add(m);
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("embeddings", loaded);
        body.put("skipped", skipped);
        Json.write(ctx, body);
    }
}
