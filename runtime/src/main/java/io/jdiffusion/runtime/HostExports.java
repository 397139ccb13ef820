package io.jdiffusion.runtime;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The packages of the host class path that the system bundle exports to bundles
 * ({@code org.osgi.framework.system.packages.extra}), so that ONNX Runtime, the DJL tokenizers, Jackson,
 * Javalin/Jetty, SLF4J and the sd-api are loaded once, by the host, and shared.
 *
 * <p>A jar with an {@code Export-Package} header exports what it says, with its versions (directives such
 * as {@code uses:=} are dropped); any other jar or folder exports every package that holds a class,
 * unversioned. The Felix framework jar, the JDK and {@code java.*} are skipped; a manifest
 * {@code Class-Path} is followed (Surefire and {@code java -jar} use one). When two entries hold the same
 * package, the first one on the class path wins, as in the class loader.
 */
public final class HostExports {
    static final String FELIX_FRAMEWORK = "org.apache.felix.framework";

    private HostExports() {
    }

    /** One exported package; {@code version} is null when unversioned. */
    public record Export(String pkg, String version) {
        @Override
        public String toString() {
            return version == null ? pkg : pkg + ";version=\"" + version + "\"";
        }
    }

    /** The value for {@code org.osgi.framework.system.packages.extra} from {@code java.class.path}. */
    public static String fromClassPath() {
        return header(scan(classPath(System.getProperty("java.class.path", ""))));
    }

    static List<Path> classPath(String classPath) {
        List<Path> out = new ArrayList<>();
        for (String s : classPath.split(File.pathSeparator)) {
            if (!s.isBlank()) out.add(Path.of(s));
        }
        return out;
    }

    /** Export-Package syntax, one clause per package. */
    public static String header(List<Export> exports) {
        return exports.stream().map(Export::toString).collect(Collectors.joining(","));
    }

    /** The exports of these class path entries, in class path order, one per package. */
    public static List<Export> scan(List<Path> entries) {
        Set<String> jdk = jdkPackages();
        Path javaHome = Path.of(System.getProperty("java.home")).toAbsolutePath().normalize();
        Map<String, Export> out = new LinkedHashMap<>();
        Set<Path> seen = new LinkedHashSet<>();
        List<Path> queue = new ArrayList<>(entries);
        for (int i = 0; i < queue.size(); i++) {
            Path entry = queue.get(i).toAbsolutePath().normalize();
            if (!seen.add(entry) || entry.startsWith(javaHome) || !Files.exists(entry)) continue;
            List<Export> found;
            if (Files.isDirectory(entry)) {
                found = unversioned(directoryPackages(entry));
            } else {
                try (JarFile jar = new JarFile(entry.toFile())) {
                    Manifest mf = jar.getManifest();
                    Attributes main = mf == null ? new Attributes() : mf.getMainAttributes();
                    queue.addAll(i + 1, manifestClassPath(entry, main.getValue(Attributes.Name.CLASS_PATH)));
                    String bsn = main.getValue("Bundle-SymbolicName");
                    if (bsn != null && bsn.split(";")[0].trim().equals(FELIX_FRAMEWORK)) continue;
                    String exportHeader = main.getValue("Export-Package");
                    found = exportHeader != null && !exportHeader.isBlank()
                            ? parseExportPackage(exportHeader) : unversioned(jarPackages(jar));
                } catch (IOException e) {
                    continue; // not a jar: nothing the class loader can load from it either
                }
            }
            for (Export e : found) {
                if (e.pkg().equals("java") || e.pkg().startsWith("java.") || jdk.contains(e.pkg())) continue;
                out.putIfAbsent(e.pkg(), e);
            }
        }
        return new ArrayList<>(out.values());
    }

    private static List<Export> unversioned(Set<String> packages) {
        return packages.stream().map(p -> new Export(p, null)).toList();
    }

    private static List<Path> manifestClassPath(Path jar, String classPath) {
        if (classPath == null || classPath.isBlank()) return List.of();
        List<Path> out = new ArrayList<>();
        for (String s : classPath.trim().split("\\s+")) {
            try {
                URI uri = jar.toUri().resolve(s);
                if ("file".equals(uri.getScheme())) out.add(Path.of(uri));
            } catch (RuntimeException e) {
                // a malformed entry: the JVM ignores it too
            }
        }
        return out;
    }

    static Set<String> jarPackages(JarFile jar) {
        Set<String> packages = new java.util.TreeSet<>();
        for (Enumeration<JarEntry> en = jar.entries(); en.hasMoreElements(); ) {
            addPackage(packages, en.nextElement().getName());
        }
        return packages;
    }

    static Set<String> directoryPackages(Path dir) {
        Set<String> packages = new java.util.TreeSet<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(Files::isRegularFile)
                    .forEach(f -> addPackage(packages, dir.relativize(f).toString().replace(File.separatorChar, '/')));
        } catch (IOException | UncheckedIOException e) {
            // unreadable folder: export what was found
        }
        return packages;
    }

    private static void addPackage(Set<String> packages, String name) {
        if (!name.endsWith(".class") || name.startsWith("META-INF/")) return;
        int slash = name.lastIndexOf('/');
        if (slash <= 0) return; // the default package cannot be imported
        String pkg = name.substring(0, slash).replace('/', '.');
        for (String part : pkg.split("\\.")) {
            if (!isIdentifier(part)) return;
        }
        packages.add(pkg);
    }

    private static boolean isIdentifier(String s) {
        if (s.isEmpty() || !Character.isJavaIdentifierStart(s.charAt(0))) return false;
        for (int i = 1; i < s.length(); i++) {
            if (!Character.isJavaIdentifierPart(s.charAt(i))) return false;
        }
        return true;
    }

    /** The packages and versions of an {@code Export-Package} header (directives and other attributes dropped). */
    static List<Export> parseExportPackage(String header) {
        List<Export> out = new ArrayList<>();
        for (String clause : split(header, ',')) {
            List<String> names = new ArrayList<>();
            String version = null;
            String specVersion = null;
            for (String part : split(clause, ';')) {
                String p = part.trim();
                if (p.isEmpty()) continue;
                int eq = p.indexOf('=');
                if (eq < 0) {
                    names.add(p);
                } else if (p.charAt(eq - 1) != ':') { // an attribute, not a directive
                    String key = p.substring(0, eq).trim();
                    int colon = key.indexOf(':'); // typed attribute: version:Version="1.0"
                    if (colon >= 0) key = key.substring(0, colon).trim();
                    String value = unquote(p.substring(eq + 1).trim());
                    if (key.equals("version")) version = value;
                    else if (key.equals("specification-version")) specVersion = value;
                }
            }
            String v = version != null ? version : specVersion;
            for (String n : names) out.add(new Export(n, v));
        }
        return out;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    /** Splits on {@code sep} outside double quotes. */
    private static List<String> split(String s, char sep) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') quoted = !quoted;
            if (c == sep && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    private static Set<String> jdkPackages() {
        return ModuleLayer.boot().modules().stream()
                .flatMap(m -> m.getPackages().stream())
                .collect(Collectors.toSet());
    }
}
