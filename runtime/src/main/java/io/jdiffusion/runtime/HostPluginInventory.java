package io.jdiffusion.runtime;

import io.jdiffusion.api.service.PluginInventory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/**
 * {@link PluginInventory} as the host sees it: the framework's bundles, the errors the {@link PluginMonitor}
 * and the core boot recorded, the components SCR failed to activate, and the plugin jars that are not
 * bundles at all. Registered through the system bundle, so the server bundle only serves it.
 */
final class HostPluginInventory implements PluginInventory {
    private final BundleContext ctx;
    private final PluginMonitor monitor;
    private final Map<String, String> coreErrors;

    /** @param coreErrors why a core bundle did not install or start, by bundle location */
    HostPluginInventory(BundleContext ctx, PluginMonitor monitor, Map<String, String> coreErrors) {
        this.ctx = ctx;
        this.monitor = monitor;
        this.coreErrors = coreErrors;
    }

    @Override
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        Set<Path> bundled = new HashSet<>();
        Path dir = monitor.dir();
        for (Bundle b : ctx.getBundles()) {
            Path jar = PluginMonitor.locationPath(b.getLocation());
            boolean plugin = jar != null && dir.equals(jar.getParent());
            if (plugin) bundled.add(jar);
            int state = b.getState();
            if (state == Bundle.UNINSTALLED) continue;
            out.add(new Entry(b.getBundleId(), b.getSymbolicName(), b.getVersion().toString(), stateName(state),
                    b.getBundleId() == 0 ? "(framework)" : SdRuntime.fileName(b), plugin, services(b),
                    error(b, plugin ? monitor.error(jar) : coreErrors.get(b.getLocation()))));
        }
        for (Path jar : monitor.pluginJars()) {
            String error = monitor.error(jar);
            if (bundled.contains(jar) || error == null) continue;
            out.add(new Entry(-1, null, null, "NOT_INSTALLED", jar.getFileName().toString(), true, List.of(), error));
        }
        return out;
    }

    /** The recorded error while the bundle is not active; a failed component of an active bundle; else null. */
    private String error(Bundle b, String recorded) {
        int state = b.getState();
        if (state == Bundle.ACTIVE) {
            List<String> failed = ComponentFailures.of(ctx, b);
            return failed.isEmpty() ? null : String.join("; ", failed);
        }
        if (recorded != null || PluginMonitor.isFragment(b)) return recorded;
        if (state == Bundle.INSTALLED) {
            String refusal = ApiCompatibility.refusal(ctx, b);
            return refusal != null ? refusal : "not resolved (yet): an import is missing or it is being installed";
        }
        return state == Bundle.RESOLVED ? "resolved but not started" : null;
    }

    /** "Sampler euler (Euler)": the simple interface names, and the plugin name and label properties. */
    static List<String> services(Bundle b) {
        ServiceReference<?>[] refs;
        try {
            refs = b.getRegisteredServices();
        } catch (IllegalStateException e) {
            return List.of(); // uninstalled meanwhile
        }
        if (refs == null) return List.of();
        List<String> out = new ArrayList<>();
        for (ServiceReference<?> ref : refs) {
            StringBuilder s = new StringBuilder();
            Object classes = ref.getProperty(Constants.OBJECTCLASS);
            if (classes instanceof String[] names) {
                for (String n : names) {
                    s.append(s.length() == 0 ? "" : "/").append(n.substring(n.lastIndexOf('.') + 1));
                }
            }
            Object name = ref.getProperty("name");
            Object label = ref.getProperty("label");
            if (name != null) s.append(' ').append(name);
            if (label != null && !label.equals(name)) s.append(" (").append(label).append(')');
            out.add(s.toString());
        }
        return out;
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNINSTALLED";
        };
    }
}
