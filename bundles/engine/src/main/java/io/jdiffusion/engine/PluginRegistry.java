package io.jdiffusion.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** The services of one kind (samplers, modes, ...) currently registered, found by name. */
public final class PluginRegistry<T> {
    private final String kind;
    private final Class<T> type;
    private final List<Named<T>> entries = new CopyOnWriteArrayList<>();

    public PluginRegistry(String kind) {
        this(kind, null);
    }

    /** With a type, every service is held behind a {@link PluginGuard} that names it when it fails. */
    public PluginRegistry(String kind, Class<T> type) {
        this.kind = kind;
        this.type = type;
    }

    public void add(T service, Map<String, Object> props, String bundle) {
        Named<T> n = Named.of(service, props, bundle);
        if (type != null) {
            n = new Named<>(n.id(), n.label(), n.aliases(), n.bundle(),
                    PluginGuard.wrap(type, service, kind, n.id(), bundle));
        }
        entries.add(n);
    }

    public void remove(T service) {
        entries.removeIf(e -> {
            if (PluginGuard.target(e.service()) != service) {
                return false;
            }
            PluginGuard.markUnloaded(e.service());
            return true;
        });
    }

    /** Sorted by id, for listings. */
    public List<Named<T>> all() {
        List<Named<T>> list = new ArrayList<>(entries);
        list.sort(Comparator.comparing(Named::id));
        return list;
    }

    public Named<T> find(String name) {
        for (Named<T> e : entries) {
            if (e.answersTo(name)) {
                return e;
            }
        }
        return null;
    }

    /** Names a request may use, for error messages: "euler (Euler), ddim (DDIM)". */
    public String available() {
        StringBuilder b = new StringBuilder();
        for (Named<T> e : all()) {
            b.append(b.length() == 0 ? "" : ", ").append(e.id());
            if (!e.label().equals(e.id())) {
                b.append(" (").append(e.label()).append(')');
            }
        }
        return b.length() == 0 ? "none installed" : b.toString();
    }

    public String kind() {
        return kind;
    }
}
