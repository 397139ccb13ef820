package io.jdiffusion.runtime;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** {@code serve}: the runtime with the HTTP server on, until Ctrl-C or SIGTERM. */
final class ServeCommand {
    static final Set<String> VALUED = union(Launch.VALUED, Set.of("host", "port", "outputs"));

    private ServeCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, VALUED, Launch.FLAGS);
        Integer port = a.integer("port");
        if (port == null) port = 7860;
        if (port < 0 || port > 65535) throw new UsageException("--port must be 0..65535 (0: any free port), got " + port);
        String host = a.get("host", "127.0.0.1");
        checkPortIsFree(host, port);
        Map<String, String> p = Launch.properties(a, true);
        p.put("sd.http.host", host);
        p.put("sd.http.port", Integer.toString(port));
        Path outputs = a.path("outputs");
        if (outputs == null) outputs = Path.of("outputs").toAbsolutePath();
        p.put("sd.outputs", Files.createDirectories(outputs).toString());

        SdRuntime runtime = Launch.boot(a, p);
        Runtime.getRuntime().addShutdownHook(new Thread(runtime::stop, "sd-shutdown"));
        runtime.awaitStop();
        return 0;
    }

    /** Fails early, in one line, where the server bundle would fail to bind after the whole boot. */
    static void checkPortIsFree(String host, int port) throws IOException {
        if (port == 0) return;
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                    + " (another server there? choose one with --port)", e);
        }
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> s = new HashSet<>(a);
        s.addAll(b);
        return Set.copyOf(s);
    }
}
