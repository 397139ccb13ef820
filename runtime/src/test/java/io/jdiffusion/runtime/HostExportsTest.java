package io.jdiffusion.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.runtime.HostExports.Export;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostExportsTest {
    @TempDir
    Path tmp;

    private static Map<String, String> byPackage(List<Export> exports) {
        return exports.stream().collect(Collectors.toMap(Export::pkg, e -> e.version() == null ? "" : e.version()));
    }

    @Test
    void reusesExportPackageWithVersionsAndDropsDirectives() throws Exception {
        Path jar = TestJars.jar(tmp.resolve("lib.jar"), Map.of(
                "Bundle-SymbolicName", "com.example.lib",
                "Export-Package", "com.example.a;version=\"2.1.3\";uses:=\"com.example.b,org.other\","
                        + "com.example.b;com.example.c;version=1.0,com.example.d,"
                        + "com.example.e;version:Version=\"3.0\";mandatory:=\"x\";x=y"),
                "com/example/a/A.class", "com/example/internal/I.class");
        Map<String, String> got = byPackage(HostExports.scan(List.of(jar)));
        assertEquals(Map.of("com.example.a", "2.1.3", "com.example.b", "1.0", "com.example.c", "1.0",
                "com.example.d", "", "com.example.e", "3.0"), got);
    }

    @Test
    void listsThePackagesOfAPlainJarUnversioned() throws Exception {
        Path jar = TestJars.jar(tmp.resolve("plain.jar"), Map.of("Implementation-Version", "9.9"),
                "ai/onnxruntime/OrtSession.class", "ai/onnxruntime/OrtSession$Result.class",
                "ai/onnxruntime/native/linux-x64/libonnxruntime.so", "ai/onnxruntime/providers/P.class",
                "META-INF/versions/9/module-info.class", "module-info.class", "Default.class",
                "kotlin/kotlin.kotlin_builtins", "com/example/res/only.txt", "bad-name/X.class");
        List<Export> got = HostExports.scan(List.of(jar));
        assertEquals(List.of(new Export("ai.onnxruntime", null), new Export("ai.onnxruntime.providers", null)), got);
        assertEquals("ai.onnxruntime,ai.onnxruntime.providers", HostExports.header(got));
    }

    @Test
    void skipsTheFelixFrameworkJdkPackagesAndMissingEntries() throws Exception {
        Path felix = TestJars.jar(tmp.resolve("felix.jar"), Map.of(
                "Bundle-SymbolicName", "org.apache.felix.framework;singleton:=true",
                "Export-Package", "org.osgi.framework;version=\"1.10\""), "org/osgi/framework/Bundle.class");
        Path jdkish = TestJars.jar(tmp.resolve("xml.jar"), Map.of(), "javax/xml/parsers/X.class",
                "java/lang/Hack.class", "org/example/Ok.class");
        List<Export> got = HostExports.scan(List.of(felix, jdkish, tmp.resolve("missing.jar")));
        assertEquals(List.of(new Export("org.example", null)), got);
    }

    @Test
    void firstEntryWinsAndFoldersAndManifestClassPathsAreScanned() throws Exception {
        Path classes = tmp.resolve("classes");
        Files.createDirectories(classes.resolve("io/example/app"));
        Files.write(classes.resolve("io/example/app/Main.class"), new byte[] {1});
        Path lib = TestJars.jar(tmp.resolve("lib/dep.jar"), Map.of("Export-Package", "io.example.app;version=\"5.0\",io.example.dep;version=\"1.2\""),
                "io/example/dep/D.class");
        // a manifest-only jar, as Surefire writes: its Class-Path names the real entries
        Path booter = TestJars.jar(tmp.resolve("booter.jar"), Map.of("Class-Path", "classes/ lib/dep.jar"));
        Map<String, String> got = byPackage(HostExports.scan(List.of(booter)));
        assertEquals(Map.of("io.example.app", "", "io.example.dep", "1.2"), got);
    }

    @Test
    void theRealClassPathExportsTheSharedLibrariesButNotFelix() {
        String header = HostExports.fromClassPath();
        for (String pkg : List.of("io.jdiffusion.api;version=\"1.", "io.jdiffusion.api.service;version=\"1.",
                "ai.onnxruntime", "ai.djl.huggingface.tokenizers", "io.javalin", "org.slf4j;version=",
                "com.fasterxml.jackson.databind;version=\"2.")) {
            assertTrue(("," + header + ",").contains("," + pkg), pkg + " missing from " + header);
        }
        assertFalse(header.contains("org.apache.felix.framework"), header);
        assertFalse(header.contains("org.osgi.framework"), "the system bundle exports the OSGi API itself");
        assertFalse(header.contains("org.apache.felix.fileinstall"), "FileInstall is a bundle, not a host package");
    }
}
