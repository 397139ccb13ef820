package io.jdiffusion.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The SDK example {@code examples/my-sampler} built the way a third party builds it: its own Maven project,
 * {@code mvn -B -o -q package} in a copy of the folder (in a subprocess), optionally with its sources edited
 * first, giving the plugin jar.
 */
final class ExamplePlugin {
    static final String SOURCE = "src/main/java/com/example/mysampler/MySampler.java";

    private final Path dir;
    private Process build;

    private ExamplePlugin(Path dir) {
        this.dir = dir;
    }

    /** The repository's {@code examples/my-sampler} (surefire sets {@code sd.repo.dir}). */
    static Path exampleDir() {
        Path repo = Path.of(System.getProperty("sd.repo.dir", ".."));
        Path dir = repo.resolve("examples/my-sampler");
        if (!Files.isRegularFile(dir.resolve("pom.xml"))) dir = Path.of("..", "examples", "my-sampler");
        return dir.toAbsolutePath().normalize();
    }

    /** A fresh copy of the example under {@code target/NAME}, with these edits applied to {@code file}s. */
    static ExamplePlugin copy(String name, Edit... edits) throws IOException {
        Path to = SdServer.targetDir().resolve(name).toAbsolutePath();
        deleteRecursively(to);
        Path from = exampleDir();
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.filter(p -> !from.relativize(p).startsWith("target")).toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dest);
                else Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        for (Edit e : edits) {
            Path f = to.resolve(e.file());
            String before = Files.readString(f, StandardCharsets.UTF_8);
            String after = e.change().apply(before);
            if (after.equals(before)) throw new IllegalStateException("edit of " + e.file() + " changed nothing");
            Files.writeString(f, after, StandardCharsets.UTF_8);
        }
        return new ExamplePlugin(to);
    }

    /** A text change to one file of the copy. */
    record Edit(String file, UnaryOperator<String> change) {
        static Edit replace(String file, String from, String to) {
            return new Edit(file, s -> s.replace(from, to));
        }
    }

    /** Starts {@code mvn -B -o -q package} in the copy (several builds may run at once). */
    ExamplePlugin startBuild() throws IOException {
        Files.deleteIfExists(dir.resolve("build.log"));
        build = maven(dir, dir.resolve("build.log"), true, "package");
        return this;
    }

    /** Waits for the build and returns its jar: {@code target/my-sampler-VERSION.jar}. */
    Path jar() throws IOException, InterruptedException {
        String log = await(build, dir.resolve("build.log"));
        if (build.exitValue() != 0 && log.contains("io.jdiffusion:sd-api")) {
            // `mvn verify` (./sd test, CI) does not install sd-api: do the SDK's first step, then build again
            installApi();
            startBuild();
            log = await(build, dir.resolve("build.log"));
        }
        if (build.exitValue() != 0) {
            throw new IllegalStateException("mvn package failed in " + dir + " (exit " + build.exitValue() + "):\n" + log);
        }
        try (Stream<Path> s = Files.list(dir.resolve("target"))) {
            return s.filter(p -> p.getFileName().toString().matches("my-sampler-.*\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no jar in " + dir.resolve("target")));
        }
    }

    private static boolean apiInstalled;

    /**
     * {@code mvn install} of the parent pom and {@code bundles/api}, as the SDK's README asks of a plugin author:
     * the example resolves {@code io.jdiffusion:sd-api} from the local Maven repository. Offline first; online
     * when the install plugin itself is not there yet (a fresh CI repository after {@code mvn verify}).
     */
    static synchronized void installApi() throws IOException, InterruptedException {
        if (apiInstalled) return;
        Path repo = exampleDir().getParent().getParent();
        Path log = SdServer.targetDir().resolve("sd-api-install.log").toAbsolutePath();
        for (boolean offline : List.of(true, false)) {
            Process parent = maven(repo, log, offline, "-N", "install");
            await(parent, log);
            if (parent.exitValue() != 0) continue;
            Process api = maven(repo.resolve("bundles/api"), log, offline, "-DskipTests", "install");
            await(api, log);
            if (api.exitValue() == 0) {
                apiInstalled = true;
                return;
            }
        }
        throw new IllegalStateException("could not install sd-api into the local Maven repository:\n" + Files.readString(log));
    }

    /** {@code mvn -B -q [-o] ARGS} in {@code dir}, its output to {@code log}; not waited for. */
    private static Process maven(Path dir, Path log, boolean offline, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(mvn(), "-B", "-q"));
        if (offline) cmd.add("-o");
        cmd.addAll(List.of(args));
        String repo = System.getProperty("sd.test.maven.repo");
        if (repo != null && !repo.isBlank()) cmd.add("-Dmaven.repo.local=" + repo);
        // appended: the install log keeps every try
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits (5 minutes at most) and returns the log. */
    private static String await(Process p, Path log) throws IOException, InterruptedException {
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("mvn took over 5 minutes (" + log + ")");
        }
        return Files.readString(log);
    }

    /** {@code mvn} from {@code MAVEN_HOME}/{@code M2_HOME}, else from the PATH. */
    static String mvn() {
        for (String env : List.of("MAVEN_HOME", "M2_HOME")) {
            String home = System.getenv(env);
            if (home != null && Files.isExecutable(Path.of(home, "bin", "mvn"))) return Path.of(home, "bin", "mvn").toString();
        }
        return "mvn";
    }

    /** Copies {@code jar} into the plugins folder as {@code name} in one atomic step, as a careful user would. */
    static void drop(Path jar, Path pluginsDir, String name) throws IOException {
        Path tmp = pluginsDir.resolve("." + name + ".part"); // FileInstall only looks at *.jar
        Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, pluginsDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
