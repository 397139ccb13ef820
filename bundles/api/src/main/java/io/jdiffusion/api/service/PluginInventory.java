package io.jdiffusion.api.service;

import java.util.List;

/**
 * What the server runs: every OSGi bundle with its state, the services it provides and why it failed, plus
 * the jars of the plugins folder that could not be installed at all. Registered by the runtime host (which
 * watches the plugins folder and sees every error) for {@code GET /api/v1/plugins}.
 */
public interface PluginInventory {
    /** Bundles by id, then the plugin jars that are not bundles. */
    List<Entry> entries();

    /**
     * One bundle, or one plugin jar that is not installed.
     *
     * @param id           the bundle id, or -1 for a jar that is not installed
     * @param symbolicName {@code Bundle-SymbolicName}, or null when the jar is not a bundle
     * @param version      {@code Bundle-Version}, or null
     * @param state        {@code ACTIVE}, {@code RESOLVED}, {@code INSTALLED}, {@code STARTING}, {@code STOPPING},
     *                     or {@code NOT_INSTALLED} for a jar that is not a bundle
     * @param file         the jar's file name
     * @param plugin       true for a jar of the plugins folder, false for a core bundle of the distribution
     * @param services     the services it registers, e.g. {@code "Sampler euler (Euler)"}
     * @param error        why it is not working, one line, or null
     */
    record Entry(long id, String symbolicName, String version, String state, String file, boolean plugin,
                 List<String> services, String error) {
    }
}
