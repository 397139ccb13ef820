package io.jdiffusion.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.service.PluginInventory;
import io.jdiffusion.runtime.testplugin.ThrowingActivator;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The inventory the host registers: real Felix and FileInstall, broken plugins of every kind. */
@Timeout(120)
class PluginInventoryTest {
    @TempDir
    Path tmp;

    @Test
    void reportsEveryBundleAndWhyEachBrokenPluginFailed() throws Exception {
        Path bundles = Files.createDirectories(tmp.resolve("bundles"));
        Files.copy(Path.of(System.getProperty("sd.test.fileinstall.jar")), bundles.resolve("org.apache.felix.fileinstall.jar"));
        Path plugins = tmp.resolve("plugins");
        TestJars.bundle(plugins.resolve("good.jar"), "test.good", "io.jdiffusion.api;version=\"[1.0,2)\"");
        TestJars.bundle(plugins.resolve("future.jar"), "test.future", "io.jdiffusion.api;version=\"[2.0,3)\"");
        TestJars.bundle(plugins.resolve("newer.jar"), "test.newer", "io.jdiffusion.api;version=\"[1.99,2)\"");
        TestJars.bundle(plugins.resolve("missing.jar"), "test.missing", "does.not.exist");
        throwingActivatorBundle(plugins.resolve("throws.jar"));
        TestJars.junk(plugins.resolve("junk.jar"));
        TestJars.bundle(plugins.resolve("badmanifest.jar"), "test.badmanifest", "some.pkg,some.pkg");

        try (SdRuntime rt = SdRuntime.boot(new SdRuntime.Options(bundles, plugins, Map.of()))) {
            PluginInventory inventory = rt.awaitService(PluginInventory.class, Duration.ofSeconds(5));
            assertNotNull(inventory, "registered by the host");
            List<PluginInventory.Entry> entries = inventory.entries();

            PluginInventory.Entry good = entry(entries, "good.jar");
            assertEquals("test.good", good.symbolicName());
            assertEquals("1.0.0", good.version());
            assertEquals("ACTIVE", good.state());
            assertTrue(good.plugin());
            assertEquals(null, good.error());

            PluginInventory.Entry future = entry(entries, "future.jar");
            assertEquals("INSTALLED", future.state());
            assertTrue(future.error().contains("incompatible plugin API version")
                    && future.error().contains("io.jdiffusion.api [2.0.0,3.0.0)")
                    && future.error().contains("this server provides io.jdiffusion.api 1.")
                    && future.error().contains("rebuild it against sd-api 1.x"), future.error());

            PluginInventory.Entry newer = entry(entries, "newer.jar");
            assertTrue(newer.error().startsWith("plugin API too old on this server: it was built for io.jdiffusion.api "
                    + "[1.99.0,2.0.0)") && newer.error().contains("update jdiffusion"), newer.error());

            assertTrue(entry(entries, "missing.jar").error().contains("does.not.exist"), entries.toString());

            PluginInventory.Entry throwing = entry(entries, "throws.jar");
            assertEquals("RESOLVED", throwing.state());
            assertTrue(throwing.error().contains("the test activator refuses to start"), throwing.error());

            PluginInventory.Entry junk = entry(entries, "junk.jar");
            assertEquals("NOT_INSTALLED", junk.state());
            assertEquals(-1, junk.id());
            assertTrue(junk.error().contains("not a readable jar"), junk.error());

            PluginInventory.Entry bad = entry(entries, "badmanifest.jar");
            assertEquals("NOT_INSTALLED", bad.state());
            assertTrue(bad.error().startsWith("not a valid bundle: ") && bad.error().contains("some.pkg"), bad.error());

            PluginInventory.Entry fileInstall = entries.stream()
                    .filter(e -> SdRuntime.FILEINSTALL.equals(e.symbolicName())).findFirst().orElseThrow();
            assertEquals("ACTIVE", fileInstall.state());
            assertTrue(!fileInstall.plugin(), "a core bundle");
            PluginInventory.Entry framework = entries.stream().filter(e -> e.id() == 0).findFirst().orElseThrow();
            assertTrue(framework.services().stream().anyMatch(s -> s.startsWith("PluginInventory")), framework.services().toString());
        }
    }

    private static PluginInventory.Entry entry(List<PluginInventory.Entry> entries, String file) {
        return entries.stream().filter(e -> file.equals(e.file())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + file + " in " + entries));
    }

    /** A bundle holding the compiled {@link ThrowingActivator}: its start() always throws. */
    private static void throwingActivatorBundle(Path file) throws Exception {
        String cls = ThrowingActivator.class.getName().replace('.', '/') + ".class";
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "test.throws");
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Bundle-Activator", ThrowingActivator.class.getName());
        a.putValue("Import-Package", "org.osgi.framework");
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, mf);
             InputStream in = ThrowingActivator.class.getClassLoader().getResourceAsStream(cls)) {
            jar.putNextEntry(new JarEntry(cls));
            in.transferTo(jar);
            jar.closeEntry();
        }
    }
}
