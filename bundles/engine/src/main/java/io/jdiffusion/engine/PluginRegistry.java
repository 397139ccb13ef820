package io.jdiffusion.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** The services of one kind (samplers, modes, ...) currently registered, found by name. */
public final class PluginRegistry<T> {
    private final String kind;
    private final List<Named<T>> entries = new CopyOnWriteArrayList<>();

    public PluginRegistry(String kind) {
        this.kind = kind;
    }

    public void add(T service, Map<String, Object> props, String bundle) {
        entries.add(Named.of(service, props, bundle));
    }

    public void remove(T service) {
        entries.removeIf(e -> e.service() == service);
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
