package io.jdiffusion.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real distribution in a subprocess: {@code java -cp target/sd/lib/* io.jdiffusion.runtime.Main serve}
 * on a free loopback port. For end-to-end tests (HTTP, browser):
 * <pre>
 * try (SdServer sd = SdServer.start(ToyModel.dir(), pluginsDir)) {
 *     http.send(GET(sd.baseUrl() + "api/v1/health"), ...);
 * }
 * </pre>
 * The process's output (stdout and stderr) goes to {@code target/sd-server-N.log}; it is also in the
 * exception when the server does not come up within 90 s.
 */
public final class SdServer implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("jdiffusion listening on (http://\\S+?/)\\s*$");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final AtomicInteger COUNT = new AtomicInteger();

    private final Process process;
    private final String baseUrl;
    private final Path logFile;
    private final Path outputsDir;

    private SdServer(Process process, String baseUrl, Path logFile, Path outputsDir) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.logFile = logFile;
        this.outputsDir = outputsDir;
    }

    /** {@code serve --port 0 --host 127.0.0.1 --model modelDir --plugins pluginsDir --outputs <new temp folder>}. */
    public static SdServer start(Path modelDir, Path pluginsDir) throws IOException {
        List<String> args = new ArrayList<>();
        if (modelDir != null) {
            args.add("--model");
            args.add(modelDir.toAbsolutePath().toString());
        }
        return start(pluginsDir, Map.of(), args.toArray(String[]::new));
    }

    /**
     * {@code serve --port 0 --host 127.0.0.1 --plugins pluginsDir --outputs <temp> EXTRA...} with extra
     * environment variables ({@code XDG_CACHE_HOME} is {@code target/xdg-cache} unless given).
     */
    public static SdServer start(Path pluginsDir, Map<String, String> env, String... extraArgs) throws IOException {
        Path outputs = Files.createTempDirectory(targetDir(), "sd-outputs-");
        List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--host", "127.0.0.1",
                "--plugins", pluginsDir.toAbsolutePath().toString(), "--outputs", outputs.toString()));
        args.addAll(List.of(extraArgs));
        Process p = command(args, env).redirectErrorStream(true).start();
        Path log = targetDir().resolve("sd-server-" + COUNT.incrementAndGet() + ".log");
        Writer logWriter = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
        StringBuilder early = new StringBuilder();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread pump = new Thread(() -> pump(p, logWriter, early, url), "sd-server-output-" + COUNT.get());
        pump.setDaemon(true);
        pump.start();
        try {
            return new SdServer(p, url.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), log, outputs);
        } catch (TimeoutException | ExecutionException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            destroy(p);
            String why = e instanceof TimeoutException ? "did not print its listening line within " + START_TIMEOUT.toSeconds() + " s"
                    : e instanceof ExecutionException ? e.getCause().getMessage() : "interrupted";
            String output;
            synchronized (early) {
                output = early.toString();
            }
            throw new IllegalStateException("jdiffusion server " + why + " (" + String.join(" ", args) + "); its output:\n" + output, e);
        }
    }

    private static void pump(Process p, Writer log, StringBuilder early, CompletableFuture<String> url) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)); log) {
            String line;
            while ((line = r.readLine()) != null) {
                log.write(line);
                log.write('\n');
                log.flush();
                if (!url.isDone()) {
                    synchronized (early) {
                        early.append(line).append('\n');
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) url.complete(m.group(1));
                }
            }
        } catch (IOException e) {
            // the process ended
        } finally {
            if (!url.isDone()) {
                url.completeExceptionally(new IllegalStateException("exited before listening"
                        + (p.isAlive() ? "" : " (exit code " + exitCode(p) + ")")));
            }
        }
    }

    private static int exitCode(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** A {@code java -cp target/sd/lib/* io.jdiffusion.runtime.Main ARGS} process, not started. */
    public static ProcessBuilder command(List<String> mainArgs, Map<String, String> env) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx2g");
        cmd.add("-cp");
        cmd.add(distDir().resolve("lib").toAbsolutePath() + "/*");
        cmd.add("io.jdiffusion.runtime.Main");
        cmd.addAll(mainArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("XDG_CACHE_HOME", targetDir().resolve("xdg-cache").toAbsolutePath().toString());
        pb.environment().putAll(env);
        return pb;
    }

    /** The distribution folder: {@code target/sd} (surefire sets {@code sd.dist.dir}). */
    public static Path distDir() {
        Path d = Path.of(System.getProperty("sd.dist.dir", "target/sd"));
        if (!Files.isDirectory(d.resolve("lib")) || !Files.isDirectory(d.resolve("bundles"))) {
            throw new IllegalStateException(d.toAbsolutePath() + " has no lib/ and bundles/: run `mvn -B verify` (the dist"
                    + " module copies them in generate-test-resources)");
        }
        return d;
    }

    /** The module's build folder ({@code target}). */
    public static Path targetDir() {
        Path t = Path.of(System.getProperty("sd.target.dir", "target"));
        try {
            return Files.createDirectories(t);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code http://127.0.0.1:PORT/}, with the trailing slash. */
    public String baseUrl() {
        return baseUrl;
    }

    /** Where this server saves generated PNGs ({@code --outputs}). */
    public Path outputsDir() {
        return outputsDir;
    }

    /** The process's output so far. */
    public Path logFile() {
        return logFile;
    }

    public String log() {
        try {
            return Files.readString(logFile);
        } catch (IOException e) {
            return "";
        }
    }

    /** The server process's id (for reading {@code /proc/PID/status}). */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM (the runtime stops the framework cleanly), then a kill after 30 s. */
    @Override
    public void close() {
        destroy(process);
    }

    private static void destroy(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
