package io.jdiffusion.dist;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** A copy of a plugin jar that claims to need plugin API 2.x: what a plugin built for a future server looks like. */
final class WrongApi {
    private WrongApi() {
    }

    static Path rewrite(Path jar, Path out) throws IOException {
        try (InputStream in = Files.newInputStream(jar); JarInputStream j = new JarInputStream(in)) {
            Manifest mf = new Manifest(j.getManifest());
            Attributes a = mf.getMainAttributes();
            a.putValue("Bundle-SymbolicName", "com.example.future");
            a.putValue("Import-Package", "io.jdiffusion.api;version=\"[2.0,3)\"");
            try (OutputStream o = Files.newOutputStream(out); JarOutputStream w = new JarOutputStream(o, mf)) {
                for (JarEntry e; (e = j.getNextJarEntry()) != null; ) {
                    w.putNextEntry(new JarEntry(e.getName()));
                    j.transferTo(w);
                    w.closeEntry();
                }
            }
        }
        return out;
    }
}
