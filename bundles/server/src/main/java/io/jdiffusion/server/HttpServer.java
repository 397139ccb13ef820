package io.jdiffusion.server;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.router.JavalinDefaultRouting;
import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.PluginInventory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Javalin application: the route table and the error mapping. Knows nothing of OSGi, so tests
 * start it on a loopback port with a stand-in {@link GenerationService}.
 */
final class HttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);
    /** Room for img2img/inpaint bodies with base64 images. */
    static final long MAX_REQUEST_BYTES = 64L * 1024 * 1024;

    private final Javalin app;

    private HttpServer(Javalin app) {
        this.app = app;
    }

    /** Creates and starts the server; {@code port} 0 takes any free port, see {@link #port()}. */
    static HttpServer start(GenerationService engine, WebUiFiles.Source ui, String host, int port) {
        return start(engine, () -> null, ui, host, port);
    }

    /** As above, with the plugin inventory for {@code GET /api/v1/plugins} (null from the supplier: 503). */
    static HttpServer start(GenerationService engine, Supplier<PluginInventory> inventory, WebUiFiles.Source ui,
                            String host, int port) {
        return start(engine, inventory, java.util.List::of, ui, host, port);
    }

    /** As above, with the textual-inversion embedding sources for {@code GET /api/v1/embeddings}. */
    static HttpServer start(GenerationService engine, Supplier<PluginInventory> inventory,
                            Supplier<java.util.List<io.jdiffusion.api.EmbeddingSource>> embeddingSources,
                            WebUiFiles.Source ui, String host, int port) {
        EmbeddingsHandler embeddings = new EmbeddingsHandler(embeddingSources);
        ApiHandlers api = new ApiHandlers(engine);
        PluginsHandler plugins = new PluginsHandler(inventory);
        WebUiFiles files = new WebUiFiles(ui);
        // Jetty and Javalin look things up with ServiceLoader through the thread context class loader:
        // inside a bundle that loader must be the one that sees Javalin (the host's).
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(Javalin.class.getClassLoader());
        try {
            Javalin app = Javalin.create(cfg -> {
                cfg.showJavalinBanner = false;
                cfg.startupWatcherEnabled = false;
                cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
                cfg.router.mount(r -> {
                    r.get("/api/v1/plugins", plugins::list);
                    r.get("/api/v1/embeddings", embeddings::list);
                    routes(r, api, files);
                });
            });
            app.start(host, port);
            return new HttpServer(app);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** The route table: one line per route, naming its handler. Earlier routes win. */
    static void routes(JavalinDefaultRouting r, ApiHandlers api, WebUiFiles files) {
        r.post("/api/v1/txt2img", api::txt2img);
        r.post("/api/v1/img2img", api::img2img);
        r.post("/api/v1/inpaint", api::inpaint);
        r.post("/api/v1/depth2img", api::depth2img);
        r.post("/api/v1/depth", api::depth);
        r.get("/api/v1/samplers", api::samplers);
        r.get("/api/v1/modes", api::modes);
        r.get("/api/v1/schedules", api::schedules);
        r.get("/api/v1/models", api::models);
        r.post("/api/v1/models/{id}/unload", api::unloadModel);
        r.get("/api/v1/health", api::health);
        r.get("/api/v1/tokens", api::tokens);
        r.get("/api/<rest>", HttpServer::noSuchApi);
        r.get("/", files::index);
        r.get("/<path>", files::file);

        r.exception(InvalidRequestException.class, HttpServer::badRequest);
        r.exception(HttpResponseException.class, HttpServer::httpError);
        r.exception(Exception.class, HttpServer::serverError);
    }

    int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    static void noSuchApi(Context ctx) {
        Json.write(ctx, 404, error("no such API route: " + ctx.method() + " " + ctx.path(), null));
    }

    static void badRequest(InvalidRequestException e, Context ctx) {
        Json.write(ctx, 400, error(e.getMessage(), e.field()));
    }

    static void httpError(HttpResponseException e, Context ctx) {
        Json.write(ctx, e.getStatus(), error(e.getMessage(), null));
    }

    static void serverError(Exception e, Context ctx) {
        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (message.length() > 300) {
            message = message.substring(0, 297) + "...";
        }
        Json.write(ctx, 500, error("internal error: " + message, null));
    }

    static Map<String, Object> error(String message, String field) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        body.put("field", field);
        return body;
    }
}
