package io.jdiffusion.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

/** Real Felix, the real FileInstall bundle, small bundles written by the test. */
@Timeout(120)
class SdRuntimeTest {
    @TempDir
    Path tmp;

    private Path bundlesDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bundles"));
        String fileInstall = System.getProperty("sd.test.fileinstall.jar");
        assertNotNull(fileInstall, "surefire sets sd.test.fileinstall.jar");
        Files.copy(Path.of(fileInstall), dir.resolve("org.apache.felix.fileinstall.jar"));
        // a core bundle that needs the api and Jackson from the host, at the versions the jars declare
        TestJars.bundle(dir.resolve("core.jar"), "test.core",
                "io.jdiffusion.api.service;version=\"[1.0,2)\",com.fasterxml.jackson.databind;version=\"[2.0,3)\","
                        + "ai.onnxruntime,org.slf4j;version=\"[2.0,3)\"");
        TestJars.bundle(dir.resolve("broken-core.jar"), "test.broken.core", "no.such.pkg");
        return dir;
    }

    private static List<Bundle> withName(SdRuntime rt, String bsn) {
        return Arrays.stream(rt.context().getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).toList();
    }

    private static Bundle waitForBundle(SdRuntime rt, String bsn, int state) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            for (Bundle b : withName(rt, bsn)) {
                if (b.getState() == state) return b;
            }
            Thread.sleep(50);
        }
        return null;
    }

    @Test
    void bootsCoreBundlesAndPluginsOnceAndSkipsBrokenJars() throws Exception {
        Path plugins = tmp.resolve("plugins");
        TestJars.bundle(plugins.resolve("good.jar"), "test.plugin.good", "io.jdiffusion.api;version=\"[1.0,2)\"");
        TestJars.bundle(plugins.resolve("needs-missing.jar"), "test.plugin.missing", "does.not.exist");
        TestJars.junk(plugins.resolve("junk.jar"));
        TestJars.zipWithoutManifest(plugins.resolve("nomanifest.jar"));
        TestJars.jar(plugins.resolve("plain.jar"), Map.of("Implementation-Title", "not a bundle"), "x/Y.class");
        Files.writeString(plugins.resolve("notes.txt"), "ignored");

        SdRuntime rt = SdRuntime.boot(new SdRuntime.Options(bundlesDir(), plugins, Map.of("sd.model", "/nowhere")));
        Path storage = Path.of(rt.context().getProperty("org.osgi.framework.storage"));
        try {
            assertEquals("/nowhere", rt.context().getProperty("sd.model"));
            assertEquals(plugins.toAbsolutePath().normalize().toString(), rt.context().getProperty("sd.plugins"));
            assertEquals(Bundle.ACTIVE, withName(rt, "test.core").get(0).getState(), "host exports resolve the core bundle");
            assertEquals(Bundle.ACTIVE, withName(rt, SdRuntime.FILEINSTALL).get(0).getState());

            List<Bundle> good = withName(rt, "test.plugin.good");
            assertEquals(1, good.size(), "installed exactly once");
            assertEquals(Bundle.ACTIVE, good.get(0).getState());
            assertEquals(plugins.resolve("good.jar").toAbsolutePath(), PluginMonitor.locationPath(good.get(0).getLocation()));

            String problems = String.join("\n", rt.problems());
            assertTrue(problems.contains("bundle broken-core.jar not started: ") && problems.contains("no.such.pkg"), problems);
            assertTrue(problems.contains("plugin not started: needs-missing.jar") && problems.contains("does.not.exist"), problems);
            assertTrue(problems.contains("plugin skipped: junk.jar: not a readable jar"), problems);
            assertTrue(problems.contains("plugin skipped: nomanifest.jar: not an OSGi bundle (no META-INF/MANIFEST.MF)"), problems);
            assertTrue(problems.contains("plugin skipped: plain.jar: not an OSGi bundle (no Bundle-SymbolicName"), problems);
            assertFalse(problems.contains("good.jar"), problems);
            assertFalse(problems.contains("notes.txt"), problems);
            for (String p : rt.problems()) assertFalse(p.contains("\n"), "one line each: " + p);

            // FileInstall keeps watching: a jar dropped in later is installed and started once
            TestJars.bundle(plugins.resolve("hot.jar"), "test.plugin.hot", null);
            Bundle hot = waitForBundle(rt, "test.plugin.hot", Bundle.ACTIVE);
            assertNotNull(hot, "hot-loaded");
            Thread.sleep(2500); // a few more polls: still one of each
            assertEquals(1, withName(rt, "test.plugin.hot").size());
            assertEquals(1, withName(rt, "test.plugin.good").size());

            // and removed when its jar goes
            Files.delete(plugins.resolve("hot.jar"));
            for (int i = 0; i < 100 && !withName(rt, "test.plugin.hot").isEmpty(); i++) Thread.sleep(50);
            assertTrue(withName(rt, "test.plugin.hot").isEmpty(), "uninstalled");
        } finally {
            rt.stop();
        }
        assertFalse(Files.exists(storage), "the storage folder is deleted on stop");
    }

    @Test
    void createsAMissingPluginsFolderWaitsForServicesAndFailsClearlyWithoutBundles() throws Exception {
        Path plugins = tmp.resolve("new-plugins");
        try (SdRuntime rt = SdRuntime.boot(new SdRuntime.Options(bundlesDir(), plugins, Map.of()))) {
            assertTrue(Files.isDirectory(plugins));
            assertNull(rt.awaitService(Runnable.class, java.time.Duration.ofMillis(50)));
            Runnable r = () -> { };
            new Thread(() -> {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                rt.context().registerService(Runnable.class, r, null);
            }).start();
            org.junit.jupiter.api.Assertions.assertSame(r, rt.awaitService(Runnable.class, java.time.Duration.ofSeconds(10)));
        }
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> SdRuntime.boot(new SdRuntime.Options(tmp.resolve("none"), plugins, Map.of())));
        assertTrue(e.getMessage().contains("bundles folder not found"), e.getMessage());
    }
}
