package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Switching models per request does not leak: two toy-model folders in a models directory, one model
 * resident at a time, 20 requests that alternate between them (each one evicts and closes the other's
 * sessions and loads its own), and the server's resident set size after the 20th stays within a small
 * tolerance of where it stood after the first few (once the JIT, the class loading and the allocators have
 * warmed up).
 */
@Timeout(900)
class ModelSwitchMemoryTest {
    static final int SWITCHES = Integer.getInteger("sd.memory.switches", 20);
    /** Switches before the baseline: the first loads class-load, JIT-compile and grow the allocator pools. */
    static final int WARM_UP = 4;
    /**
     * Allowed growth of VmRSS from the baseline to the end. Measured on the 2-core build machine (toy model,
     * 256x256, 2 steps): with the sessions closed on eviction the RSS grew 18 MB from switch 4 to 20 (and 45 MB
     * over 56 switches: about 1 MB a request, which does not depend on switching: input tensors' direct
     * buffers wait for a garbage collection, the JIT keeps compiling); with ModelManager's {@code old.close()}
     * removed it grew 208 MB (13 MB a switch). 48 MB sits well above the first and far below the second.
     */
    static final long TOLERANCE_KB = 48 * 1024;

    @Test
    void twentySwitchesBackAndForthKeepTheMemoryFlat() throws Exception {
        Path models = Files.createTempDirectory(SdServer.targetDir(), "models-");
        ToyWorld.write(models.resolve("toy-a"), ToyWorldOptions.defaults());
        ToyWorld.write(models.resolve("toy-b"), ToyWorldOptions.defaults());
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        // a heap that is committed and touched up front, so that RSS moves with native memory (the sessions),
        // not with the garbage collector's heap sizing
        Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", "-Xms768m -XX:+AlwaysPreTouch");
        try (SdServer sd = SdServer.start(plugins, env, "--models-dir", models.toString(), "--resident", "1",
                "--device", "cpu")) {
            List<Long> rss = new ArrayList<>();
            long baseline = 0;
            for (int i = 1; i <= SWITCHES; i++) {
                String model = i % 2 == 1 ? "toy-a" : "toy-b";
                Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request(model));
                assertEquals(200, r.status(), r.body());
                assertEquals(model, r.json().path("info").path("model").asText(), r.body());
                JsonNode health = Http.get(sd.baseUrl() + "api/v1/health").json();
                assertEquals("[\"" + model + "\"]", health.path("loaded_models").toString(),
                        "one resident model: the other was evicted (" + health + ")");
                rss.add(rssKb(sd.pid()));
                if (i == WARM_UP) {
                    baseline = rss.get(i - 1);
                }
            }
            // counting tokens for the other model (the web UI does it as you type) neither loads nor evicts
            String last = SWITCHES % 2 == 1 ? "toy-a" : "toy-b";
            String other = last.equals("toy-a") ? "toy-b" : "toy-a";
            Http.Response tokens = Http.get(sd.baseUrl() + "api/v1/tokens?model=" + other + "&prompt=a%20red%20circle");
            assertEquals(200, tokens.status(), tokens.body());
            assertTrue(tokens.json().path("tokens").asInt() > 0, tokens.body());
            assertEquals("[\"" + last + "\"]", Http.get(sd.baseUrl() + "api/v1/health").json().path("loaded_models").toString());

            long end = rss.get(SWITCHES - 1);
            String series = "VmRSS kB after each switch: " + rss;
            System.out.println(series);
            assertTrue(end - baseline <= TOLERANCE_KB, "RSS grew by " + (end - baseline) / 1024 + " MB from switch "
                    + WARM_UP + " to " + SWITCHES + " (tolerance " + TOLERANCE_KB / 1024 + " MB); " + series);
        }
    }

    private static Map<String, Object> request(String model) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", "a red circle on a white background");
        r.put("model", model);
        r.put("steps", 2);
        r.put("seed", 1);
        r.put("width", 256);
        r.put("height", 256);
        return r;
    }

    /** VmRSS of a process in kB, from /proc/PID/status. */
    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
    }
}
