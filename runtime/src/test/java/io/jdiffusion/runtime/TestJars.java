package io.jdiffusion.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small jars and bundles written by the tests. */
final class TestJars {
    private TestJars() {
    }

    /** A jar with these manifest headers (none: no manifest at all) and these empty entries. */
    static Path jar(Path file, Map<String, String> headers, String... entries) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            ZipOutputStream zip;
            if (headers == null) {
                zip = new ZipOutputStream(out);
            } else {
                Manifest mf = new Manifest();
                mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
                headers.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
                zip = new JarOutputStream(out, mf);
            }
            for (String e : entries) {
                zip.putNextEntry(new JarEntry(e));
                zip.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
                zip.closeEntry();
            }
            zip.finish();
        }
        return file;
    }

    /** An OSGi bundle with no classes; {@code imports} may be null. */
    static Path bundle(Path file, String bsn, String imports) throws IOException {
        Map<String, String> h = new java.util.LinkedHashMap<>();
        h.put("Bundle-ManifestVersion", "2");
        h.put("Bundle-SymbolicName", bsn);
        h.put("Bundle-Version", "1.0.0");
        if (imports != null) h.put("Import-Package", imports);
        return jar(file, h);
    }

    static Path zipWithoutManifest(Path file) throws IOException {
        return jar(file, null, "a/B.class");
    }

    static Path junk(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, "this is not a zip file".getBytes());
    }

    static ZipEntry entry(String name) {
        return new ZipEntry(name);
    }
}
