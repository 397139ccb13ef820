package io.jdiffusion.server;

import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.PluginInventory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the HTTP server when the framework property {@code sd.http.enabled} is {@code true}
 * (the {@code serve} command) on {@code sd.http.host}:{@code sd.http.port}, and stops it on deactivation.
 */
@Component(immediate = true)
public class ServerComponent {
    private static final Logger LOG = LoggerFactory.getLogger(ServerComponent.class);
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 7860;

    @Reference
    private GenerationService engine;

    /** Registered by the runtime host; optional so the server also runs in a bare framework. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile PluginInventory inventory;

    /** Textual-inversion embeddings, for {@code GET /api/v1/embeddings}. */
    private final java.util.List<io.jdiffusion.api.EmbeddingSource> embeddingSources =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    private HttpServer server;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeEmbeddingSource")
    void addEmbeddingSource(io.jdiffusion.api.EmbeddingSource source) {
        embeddingSources.add(source);
    }

    void removeEmbeddingSource(io.jdiffusion.api.EmbeddingSource source) {
        embeddingSources.remove(source);
    }

    @Activate
    void activate(BundleContext context) {
        if (!Boolean.parseBoolean(context.getProperty("sd.http.enabled"))) {
            return;
        }
        String host = context.getProperty("sd.http.host");
        if (host == null || host.isBlank()) {
            host = DEFAULT_HOST;
        }
        int port = port(context.getProperty("sd.http.port"));
        try {
            server = HttpServer.start(engine, () -> inventory, () -> embeddingSources, new BundleWebUi(context), host, port);
        } catch (RuntimeException e) {
            LOG.error("cannot listen on {}:{}: {}", host, port, e.toString());
            throw e;
        }
        LOG.info("HTTP server started on {}:{}", host, server.port());
        System.out.println("jdiffusion listening on http://" + host + ":" + server.port() + "/");
        System.out.flush();
    }

    @Deactivate
    void deactivate() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    static int port(String property) {
        if (property == null || property.isBlank()) {
            return DEFAULT_PORT;
        }
        try {
            int p = Integer.parseInt(property.strip());
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("sd.http.port must be 0..65535, got " + property);
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sd.http.port must be a port number, got " + property, e);
        }
    }
}
