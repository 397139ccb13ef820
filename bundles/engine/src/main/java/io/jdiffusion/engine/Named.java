package io.jdiffusion.engine;

import io.jdiffusion.api.Plugin;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A plugin service with the names a request may use for it. */
public record Named<T>(String id, String label, List<String> aliases, String bundle, T service) {

    static <T> Named<T> of(T service, Map<String, Object> props, String bundle) {
        Object name = props.get(Plugin.NAME);
        String id = name == null ? service.getClass().getSimpleName() : name.toString();
        Object label = props.get(Plugin.LABEL);
        List<String> aliases = new ArrayList<>();
        Object a = props.get(Plugin.ALIASES);
        if (a instanceof String s) {
            for (String part : s.split(",")) {
                if (!part.isBlank()) {
                    aliases.add(part.trim());
                }
            }
        } else if (a instanceof String[] arr) {
            aliases.addAll(List.of(arr));
        }
        return new Named<>(id, label == null ? id : label.toString(), List.copyOf(aliases), bundle, service);
    }

    /** Id, label and aliases match case-insensitively, so "euler_a" and "Euler a" both work. */
    boolean answersTo(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (id.toLowerCase(Locale.ROOT).equals(n) || label.toLowerCase(Locale.ROOT).equals(n)) {
            return true;
        }
        for (String alias : aliases) {
            if (alias.toLowerCase(Locale.ROOT).equals(n)) {
                return true;
            }
        }
        return false;
    }
}
