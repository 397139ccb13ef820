package io.jdiffusion.runtime;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.BundleRevision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports, one line per jar, what became of each jar of the plugins folder: FileInstall installs and starts
 * them and stays quiet about jars it cannot handle, so this says which plugin started, which was skipped and
 * why. At startup a plugin that started is logged at debug level; later (hot) changes at info level.
 */
final class PluginMonitor {
    private static final Logger LOG = LoggerFactory.getLogger("jdiffusion");
    /** How long a new jar gets for FileInstall (poll 0.5 s) to pick it up before it is reported. */
    private static final long GRACE_MS = 3_000;

    private record Seen(long modified, long size, long firstSeenMs) {
    }

    private final BundleContext ctx;
    private final Path dir;
    private final Map<Path, Seen> seen = new HashMap<>();
    private final Map<Path, Seen> reported = new HashMap<>();
    /** Why each jar of the folder is not working (absent: it is, or it has not been judged yet). */
    private final Map<Path, String> errors = new java.util.concurrent.ConcurrentHashMap<>();

    PluginMonitor(BundleContext ctx, Path dir) {
        this.ctx = ctx;
        this.dir = dir;
    }

    private List<Path> jars() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Installs and starts every jar (when FileInstall is missing); failures are reported by {@link #check}. */
    void installDirectly() {
        for (Path jar : jars()) {
            if (bundleAt(jar) != null || skipReason(jar) != null) continue;
            try {
                Bundle b = ctx.installBundle(jar.toUri().toString());
                if (!isFragment(b)) b.start();
            } catch (BundleException | RuntimeException e) {
                // check() names the reason
            }
        }
    }

    /**
     * Waits (bounded) until every jar that looks like a bundle has been installed by FileInstall. A jar still
     * missing after a second is checked once for a manifest Felix refuses, so a bad one does not hold up the boot.
     */
    void awaitInstalled(Duration timeout) {
        long start = System.nanoTime();
        long end = start + timeout.toNanos();
        Set<Path> refused = new HashSet<>();
        while (System.nanoTime() < end) {
            boolean all = true;
            boolean late = System.nanoTime() - start > 1_000_000_000L;
            for (Path jar : jars()) {
                if (bundleAt(jar) != null || skipReason(jar) != null || sameAsInstalled(jar) || refused.contains(jar)) continue;
                if (late && installError(jar) != null) {
                    refused.add(jar);
                    continue;
                }
                all = false;
            }
            if (all) return;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Looks at every jar of the folder and reports what is new since the last look.
     *
     * @param startup at startup everything is reported at once; later a new jar gets a grace period
     * @return the problem lines reported by this call
     */
    synchronized List<String> check(boolean startup) {
        List<String> problems = new ArrayList<>();
        try {
            long now = System.currentTimeMillis();
            Set<Path> present = new HashSet<>();
            for (Path jar : jars()) {
                present.add(jar);
                Seen s;
                try {
                    s = new Seen(Files.getLastModifiedTime(jar).toMillis(), Files.size(jar), now);
                } catch (IOException e) {
                    continue;
                }
                Seen before = seen.get(jar);
                if (before != null && before.modified() == s.modified() && before.size() == s.size()) {
                    s = before;
                } else {
                    seen.put(jar, s);
                }
                if (s.equals(reported.get(jar))) continue;
                boolean young = !startup && now - s.firstSeenMs() < GRACE_MS;
                String outcome = report(jar, startup, young);
                if (outcome == null) continue; // too young to judge: look again after the grace period
                reported.put(jar, s);
                if (!outcome.isEmpty()) problems.add(outcome);
            }
            for (Path gone : new ArrayList<>(reported.keySet())) {
                if (!present.contains(gone)) {
                    reported.remove(gone);
                    seen.remove(gone);
                    errors.remove(gone);
                    LOG.info("plugin removed: {}", gone.getFileName());
                }
            }
        } catch (RuntimeException e) {
            // the framework is stopping: nothing to report any more
        }
        return problems;
    }

    /** Logs the jar's state; returns the problem line, "" when it started, or null when it is too young to judge. */
    private String report(Path jar, boolean startup, boolean young) {
        String name = jar.getFileName().toString();
        Bundle b = bundleAt(jar);
        if (b == null) {
            if (young) return null;
            String why = skipReason(jar);
            if (why == null) {
                Bundle same = sameInstalled(jar);
                String refused = same == null ? installError(jar) : null;
                why = same != null
                        ? "the same bundle as " + same.getSymbolicName() + " " + same.getVersion() + " (" + SdRuntime.fileName(same) + "), already installed"
                        : refused != null ? refused : "not installed by FileInstall (see its message above)";
            }
            errors.put(jar, why);
            return warn("plugin skipped: " + name + ": " + why);
        }
        int state = b.getState();
        if (isFragment(b) || state == Bundle.ACTIVE || state == Bundle.STARTING) {
            String msg = "plugin started: " + b.getSymbolicName() + " " + b.getVersion() + " (" + name + ")";
            if (startup) LOG.debug(msg);
            else LOG.info(msg);
            errors.remove(jar);
            return "";
        }
        if (young) return null;
        try {
            b.start();
            LOG.info("plugin started: {} {} ({})", b.getSymbolicName(), b.getVersion(), name);
            errors.remove(jar);
            return "";
        } catch (BundleException | RuntimeException e) {
            // "needs io.jdiffusion.api 2.x" says more than Felix's unresolved-requirement filter
            String refusal = ApiCompatibility.refusal(ctx, b);
            String why = refusal != null ? refusal : reason(e);
            errors.put(jar, why);
            return warn("plugin not started: " + name + " (" + b.getSymbolicName() + "): " + why);
        }
    }

    /** Why this jar of the folder is not working, as last reported; null when it works or is not judged yet. */
    String error(Path jar) {
        return errors.get(jar.toAbsolutePath().normalize());
    }

    Path dir() {
        return dir;
    }

    /** The jars of the folder, sorted. */
    List<Path> pluginJars() {
        return jars();
    }

    /**
     * Why Felix refuses the jar (a bad manifest: a malformed header, a duplicate import), which FileInstall only
     * logs: a trial install under a location of our own, undone at once. Null when Felix accepts it.
     */
    private String installError(Path jar) {
        try (java.io.InputStream in = Files.newInputStream(jar)) {
            Bundle trial = ctx.installBundle("sd-manifest-check:" + jar.toAbsolutePath(), in);
            trial.uninstall();
            return null;
        } catch (BundleException | IOException | RuntimeException e) {
            return "not a valid bundle: " + reason(e);
        }
    }

    private static String warn(String line) {
        LOG.warn(line);
        return line;
    }

    /** The installed bundle whose location is this file (FileInstall's location is the file's URL). */
    Bundle bundleAt(Path jar) {
        Path want = jar.toAbsolutePath().normalize();
        for (Bundle b : ctx.getBundles()) {
            Path p = locationPath(b.getLocation());
            if (want.equals(p)) return b;
        }
        return null;
    }

    static Path locationPath(String location) {
        try {
            URI uri = URI.create(location);
            return "file".equals(uri.getScheme()) ? Path.of(uri).toAbsolutePath().normalize() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private boolean sameAsInstalled(Path jar) {
        return sameInstalled(jar) != null;
    }

    /** A bundle from elsewhere with this jar's symbolic name and version (FileInstall updates that one instead). */
    private Bundle sameInstalled(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest mf = f.getManifest();
            String bsn = mf.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME).split(";")[0].trim();
            String v = mf.getMainAttributes().getValue(Constants.BUNDLE_VERSION);
            org.osgi.framework.Version version = v == null ? org.osgi.framework.Version.emptyVersion
                    : org.osgi.framework.Version.parseVersion(v.trim());
            for (Bundle b : ctx.getBundles()) {
                if (bsn.equals(b.getSymbolicName()) && version.equals(b.getVersion())) return b;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** Why FileInstall will not touch this jar, or null when it looks like a bundle. */
    static String skipReason(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest mf = f.getManifest();
            if (mf == null) return "not an OSGi bundle (no META-INF/MANIFEST.MF)";
            if (mf.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME) == null) {
                return "not an OSGi bundle (no Bundle-SymbolicName in its manifest)";
            }
            return null;
        } catch (IOException e) {
            return "not a readable jar (" + oneLine(e.getMessage() == null ? e.toString() : e.getMessage()) + ")";
        }
    }

    static boolean isFragment(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        return rev != null ? (rev.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0
                : b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
    }

    /** The message of an exception and its causes, on one line. */
    static String reason(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            String m = oneLine(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            int cut = m.indexOf(" Unresolved requirements:"); // Felix repeats the missing requirement there
            if (cut > 0) m = m.substring(0, cut);
            if (sb.length() > 0) {
                if (sb.indexOf(m) >= 0) continue;
                sb.append(": ");
                if (t.getMessage() != null && !(t instanceof BundleException)) sb.append(t.getClass().getSimpleName()).append(": ");
            }
            sb.append(m);
        }
        return oneLine(sb.toString());
    }

    static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }
}
