package io.jdiffusion.server;

import io.javalin.http.Context;
import io.jdiffusion.api.service.PluginInventory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/plugins}: {@code [{id, symbolic_name, version, state, file, plugin, services, error}]},
 * every bundle the server runs and each plugin jar that could not be installed. The runtime host knows the
 * errors and registers the {@link PluginInventory}; this only serves it.
 */
final class PluginsHandler {
    private final Supplier<PluginInventory> inventory;

    /** @param inventory the current inventory service, or null while there is none */
    PluginsHandler(Supplier<PluginInventory> inventory) {
        this.inventory = inventory;
    }

    void list(Context ctx) {
        PluginInventory inv = inventory.get();
        if (inv == null) {
            Json.write(ctx, 503, HttpServer.error("the plugin inventory is not available: the runtime registers it"
                    + " (this server runs without the jdiffusion runtime?)", null));
            return;
        }
        Json.write(ctx, json(inv.entries()));
    }

    static List<Map<String, Object>> json(List<PluginInventory.Entry> entries) {
        List<Map<String, Object>> out = new ArrayList<>(entries.size());
        for (PluginInventory.Entry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.id());
            m.put("symbolic_name", e.symbolicName());
            m.put("version", e.version());
            m.put("state", e.state());
            m.put("file", e.file());
            m.put("plugin", e.plugin());
            m.put("services", e.services() == null ? List.of() : e.services());
            m.put("error", e.error());
            out.add(m);
        }
        return out;
    }
}
