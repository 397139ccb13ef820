package io.jdiffusion.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.jdiffusion.api.service.PluginInventory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the embedded Felix framework: a fresh storage folder, the host packages exported by the
 * system bundle, every jar of the distribution's {@code bundles/} folder installed and started, then
 * the plugins folder handed to Felix FileInstall (which installs what is there at once and watches it
 * afterwards). {@link #stop()} stops the framework and deletes the storage folder.
 */
public final class SdRuntime implements AutoCloseable {
    static final String FILEINSTALL = "org.apache.felix.fileinstall";
    private static final Logger LOG = LoggerFactory.getLogger("jdiffusion");

    /**
     * @param bundlesDir the distribution's core bundles, all installed and started (fragments only installed)
     * @param pluginsDir the user's plugins folder (created if missing), watched by FileInstall
     * @param properties framework properties ({@code sd.*}, see docs/contracts.md)
     */
    public record Options(Path bundlesDir, Path pluginsDir, Map<String, String> properties) {
    }

    private final Framework framework;
    private final StorageDir storage;
    private final PluginMonitor plugins;
    private final ScheduledExecutorService watcher;
    private final List<String> problems = new ArrayList<>();
    /** Why a core bundle did not install or start, by location, for {@link HostPluginInventory}. */
    private final Map<String, String> coreErrors = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean stopped;

    private SdRuntime(Framework framework, StorageDir storage, PluginMonitor plugins, ScheduledExecutorService watcher) {
        this.framework = framework;
        this.storage = storage;
        this.plugins = plugins;
        this.watcher = watcher;
    }

    /** Starts the framework, the core bundles and the plugins; a bundle that fails is logged and skipped. */
    public static SdRuntime boot(Options options) throws IOException, BundleException {
        Path bundlesDir = options.bundlesDir().toAbsolutePath().normalize();
        if (!Files.isDirectory(bundlesDir)) {
            throw new IOException("bundles folder not found: " + bundlesDir
                    + " (build with `mvn -B install -DskipTests`, or give --bundles DIR)");
        }
        Path pluginsDir = Files.createDirectories(options.pluginsDir().toAbsolutePath().normalize());
        StorageDir storage = StorageDir.create();

        Map<String, String> config = new HashMap<>(options.properties());
        config.put(Constants.FRAMEWORK_STORAGE, storage.path().toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, HostExports.fromClassPath());
        // No JVM-wide URL handler factory: bundle URLs work without it, and the host stays untouched.
        config.putIfAbsent("felix.service.urlhandlers", "false");
        config.putIfAbsent("felix.log.level", LOG.isDebugEnabled() ? "2" : "1");
        config.put("sd.plugins", pluginsDir.toString());
        config.put("felix.fileinstall.dir", pluginsDir.toString());
        // a dropped-in jar is loaded within a second or so; a listing of one folder twice a second costs nothing
        config.putIfAbsent("felix.fileinstall.poll", "500");
        config.put("felix.fileinstall.bundles.new.start", "true");
        config.put("felix.fileinstall.noInitialDelay", "true");
        config.put("felix.fileinstall.filter", ".*\\.jar");
        config.put("felix.fileinstall.tmpdir", storage.path().resolve("fileinstall-tmp").toString());
        config.putIfAbsent("felix.fileinstall.log.level", LOG.isDebugEnabled() ? "3" : "1");

        Framework framework;
        try {
            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, SdRuntime.class.getClassLoader())
                    .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
            framework = factory.newFramework(config);
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
        SdRuntime runtime = null;
        try {
            framework.init();
            framework.start();
            BundleContext ctx = framework.getBundleContext();
            ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sd-plugins-monitor");
                t.setDaemon(true);
                return t;
            });
            runtime = new SdRuntime(framework, storage, new PluginMonitor(ctx, pluginsDir), watcher);
            // before the core bundles start, so the server finds it at once (GET /api/v1/plugins)
            ctx.registerService(PluginInventory.class, new HostPluginInventory(ctx, runtime.plugins, runtime.coreErrors), null);
            runtime.startCore(ctx, bundlesDir);
            runtime.startPlugins(ctx, pluginsDir);
            return runtime;
        } catch (IOException | BundleException | RuntimeException e) {
            if (runtime != null) runtime.stop();
            else stopFramework(framework, storage);
            throw e;
        }
    }

    private void startCore(BundleContext ctx, Path bundlesDir) throws IOException {
        List<Path> jars;
        try (Stream<Path> s = Files.list(bundlesDir)) {
            jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars) {
            try {
                installed.add(ctx.installBundle(jar.toUri().toString()));
            } catch (BundleException | RuntimeException e) {
                problem("bundle " + jar.getFileName() + " not installed: " + PluginMonitor.reason(e));
            }
        }
        int started = 0;
        for (Bundle b : installed) {
            if (PluginMonitor.isFragment(b) || FILEINSTALL.equals(b.getSymbolicName())) continue;
            try {
                b.start();
                started++;
                LOG.debug("started {} {} ({})", b.getSymbolicName(), b.getVersion(), fileName(b));
            } catch (BundleException | RuntimeException e) {
                coreErrors.put(b.getLocation(), PluginMonitor.reason(e));
                problem("bundle " + fileName(b) + " not started: " + PluginMonitor.reason(e));
            }
        }
        LOG.debug("{} core bundles started from {}", started, bundlesDir);
    }

    private void startPlugins(BundleContext ctx, Path pluginsDir) {
        Bundle fileInstall = null;
        for (Bundle b : ctx.getBundles()) {
            if (FILEINSTALL.equals(b.getSymbolicName())) fileInstall = b;
        }
        if (fileInstall == null) {
            problem("Felix FileInstall is not in the bundles folder: " + pluginsDir + " is loaded once, not watched");
            plugins.installDirectly();
        } else {
            try {
                // noInitialDelay: FileInstall installs and starts what the folder holds before start() returns
                fileInstall.start();
            } catch (BundleException | RuntimeException e) {
                problem("bundle " + fileName(fileInstall) + " not started: " + PluginMonitor.reason(e)
                        + "; plugins are loaded once, not watched");
                plugins.installDirectly();
            }
        }
        plugins.awaitInstalled(Duration.ofSeconds(10));
        problems.addAll(plugins.check(true));
        if (fileInstall != null && fileInstall.getState() == Bundle.ACTIVE) {
            watcher.scheduleWithFixedDelay(() -> plugins.check(false), 2, 2, TimeUnit.SECONDS);
        }
    }

    private void problem(String line) {
        problems.add(line);
        LOG.warn(line);
    }

    static String fileName(Bundle b) {
        String loc = b.getLocation();
        return loc.substring(loc.lastIndexOf('/') + 1);
    }

    /** The one-line problems found while booting (bundles or plugins that were skipped). */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    public BundleContext context() {
        return framework.getBundleContext();
    }

    public Framework framework() {
        return framework;
    }

    /**
     * The service, waiting up to {@code timeout} for it to be registered; null when it was not. The system
     * bundle keeps using it until the framework stops (a delayed DS component stays activated).
     */
    public <T> T awaitService(Class<T> type, Duration timeout) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context(), type, null);
        tracker.open();
        try {
            if (tracker.waitForService(timeout.toMillis()) == null) return null;
            ServiceReference<T> ref = tracker.getServiceReference();
            return ref == null ? null : context().getService(ref);
        } finally {
            tracker.close();
        }
    }

    /** Blocks until the framework has stopped (by {@link #stop()}, e.g. from a shutdown hook). */
    public void awaitStop() throws InterruptedException {
        FrameworkEvent e;
        do {
            e = framework.waitForStop(0);
        } while (e.getType() == FrameworkEvent.STOPPED_UPDATE);
    }

    /** Stops the framework (waiting for the bundles to deactivate) and deletes the storage folder. Idempotent. */
    public synchronized void stop() {
        if (stopped) return;
        stopped = true;
        watcher.shutdownNow();
        stopFramework(framework, storage);
    }

    @Override
    public void close() {
        stop();
    }

    private static void stopFramework(Framework framework, StorageDir storage) {
        try {
            framework.stop();
            FrameworkEvent e = framework.waitForStop(30_000);
            if (e.getType() == FrameworkEvent.WAIT_TIMEDOUT) LOG.warn("the OSGi framework did not stop within 30 s");
        } catch (BundleException | RuntimeException e) {
            LOG.warn("stopping the OSGi framework: {}", PluginMonitor.reason(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        storage.close();
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // best effort: it is a temp folder
        }
    }
}
