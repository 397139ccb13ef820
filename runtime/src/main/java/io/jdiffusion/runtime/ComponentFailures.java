package io.jdiffusion.runtime;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The Declarative Services components of a bundle that failed to activate (their constructor or
 * {@code @Activate} threw): the bundle itself is ACTIVE, so only SCR knows. The host reads SCR's
 * {@code ServiceComponentRuntime} by reflection because the DS runtime API is a bundle, not on the host
 * class path (putting it there would make the host export it and pin its version).
 */
final class ComponentFailures {
    static final String SCR = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    /** {@code ComponentConfigurationDTO.FAILED_ACTIVATION} (DS 1.4). */
    static final int FAILED_ACTIVATION = 16;

    private ComponentFailures() {
    }

    /** "component NAME failed to activate: REASON" for each failed component of {@code b}; empty when none. */
    static List<String> of(BundleContext ctx, Bundle b) {
        List<String> out = new ArrayList<>();
        ServiceReference<?> ref = ctx.getServiceReference(SCR);
        if (ref == null) return out;
        Object scr = ctx.getService(ref);
        if (scr == null) return out;
        try {
            Class<?> api = apiInterface(scr.getClass());
            if (api == null) return out;
            Method descriptions = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Method configurations = null;
            for (Method m : api.getMethods()) {
                if (m.getName().equals("getComponentConfigurationDTOs")) configurations = m;
            }
            if (configurations == null) return out;
            for (Object desc : (Collection<?>) descriptions.invoke(scr, (Object) new Bundle[] {b})) {
                String name = String.valueOf(desc.getClass().getField("name").get(desc));
                for (Object conf : (Collection<?>) configurations.invoke(scr, desc)) {
                    if (conf.getClass().getField("state").getInt(conf) != FAILED_ACTIVATION) continue;
                    Object failure = conf.getClass().getField("failure").get(conf);
                    out.add("component " + name + " failed to activate: " + rootCause(failure));
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // an SCR without the DS 1.4 DTOs: nothing to add
        } finally {
            ctx.ungetService(ref);
        }
        return out;
    }

    private static Class<?> apiInterface(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Class<?> i : k.getInterfaces()) {
                if (i.getName().equals(SCR)) return i;
            }
        }
        return null;
    }

    /**
     * The line of SCR's failure text (a stack trace) that names the root exception and its message: the last
     * "Caused by:", since SCR wraps a throwing constructor or activate method in reflection exceptions.
     */
    static String rootCause(Object failure) {
        if (failure == null) return "unknown error";
        String line = null;
        for (String l : failure.toString().strip().split("\\R")) {
            if (line == null) line = l;
            else if (l.startsWith("Caused by: ")) line = l.substring("Caused by: ".length());
        }
        return PluginMonitor.oneLine(line == null ? "" : line);
    }
}
