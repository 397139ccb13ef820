package io.jdiffusion.runtime.testplugin;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** Packed into a test bundle as its activator: a plugin whose start always fails. */
public class ThrowingActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        throw new IllegalStateException("the test activator refuses to start");
    }

    @Override
    public void stop(BundleContext context) {
    }
}
