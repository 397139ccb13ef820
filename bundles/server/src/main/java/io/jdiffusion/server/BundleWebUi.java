package io.jdiffusion.server;

import java.net.URL;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * The {@code webui/} entries of the bundle {@code io.jdiffusion.webui}, looked up on every request so that
 * a UI bundle installed, updated or removed while the server runs is picked up (the highest version wins).
 * {@link Bundle#getEntry} reads the JAR itself: the UI bundle need not be resolved or started.
 */
final class BundleWebUi implements WebUiFiles.Source {
    static final String SYMBOLIC_NAME = "io.jdiffusion.webui";
    static final String FOLDER = "webui/";

    private final BundleContext context;

    BundleWebUi(BundleContext context) {
        this.context = context;
    }

    @Override
    public URL find(String relativePath) {
        Bundle b = bundle();
        if (b == null) {
            return null;
        }
        try {
            URL url = b.getEntry(FOLDER + relativePath);
            // a folder entry is no file
            return url == null || url.getPath().endsWith("/") ? null : url;
        } catch (IllegalStateException uninstalledMeanwhile) {
            return null;
        }
    }

    @Override
    public boolean present() {
        return bundle() != null;
    }

    private Bundle bundle() {
        Bundle best = null;
        for (Bundle b : context.getBundles()) {
            if (SYMBOLIC_NAME.equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED
                    && (best == null || b.getVersion().compareTo(best.getVersion()) > 0)) {
                best = b;
            }
        }
        return best;
    }
}
