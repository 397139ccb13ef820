package io.jdiffusion.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The options of one command: {@code --name value}, {@code --name=value} or a bare {@code --flag}.
 * Unknown options, missing values and stray arguments are usage errors.
 */
final class Args {
    private final Map<String, List<String>> values = new LinkedHashMap<>();

    private Args() {
    }

    /**
     * @param valued the options that take a value (without the leading dashes)
     * @param flags  the options that take none
     */
    static Args parse(String[] args, int from, Set<String> valued, Set<String> flags) throws UsageException {
        Args out = new Args();
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) throw new UsageException("unexpected argument: " + a);
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) throw new UsageException("--" + name + " takes no value");
                out.values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) throw new UsageException("--" + name + " needs a value");
                    value = args[++i];
                }
                out.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                throw new UsageException("unknown option: --" + name);
            }
        }
        return out;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name) {
        List<String> v = values.get(name);
        return v == null ? null : v.get(v.size() - 1);
    }

    String get(String name, String dflt) {
        String v = get(name);
        return v == null ? dflt : v;
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    String require(String name) throws UsageException {
        String v = get(name);
        if (v == null || v.isBlank()) throw new UsageException("--" + name + " is required");
        return v;
    }

    Path path(String name) {
        String v = get(name);
        return v == null ? null : Path.of(v).toAbsolutePath().normalize();
    }

    Integer integer(String name) throws UsageException {
        String v = get(name);
        if (v == null) return null;
        try {
            return Integer.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a whole number, got '" + v + "'");
        }
    }

    Double number(String name) throws UsageException {
        String v = get(name);
        if (v == null) return null;
        try {
            return Double.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a number, got '" + v + "'");
        }
    }

    /** One of the allowed words. */
    String choice(String name, String dflt, List<String> allowed) throws UsageException {
        String v = get(name, dflt);
        if (!allowed.contains(v)) {
            throw new UsageException("--" + name + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
        }
        return v;
    }
}
