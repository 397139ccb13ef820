package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code serve --device cuda} with CUDA options through the real server: where the CUDA provider cannot
 * load (no GPU, or no CUDA 12 libraries, as on the build machine) the server comes up on the CPU, says why
 * in one log line and in {@code GET /api/v1/health}, and generates; where it loads, health says CUDA.
 */
@Timeout(300)
class CudaFallbackEndToEndTest {
    private static final String LOG_LINE = "CUDA execution provider unavailable, using CPU: ";

    @Test
    void cudaFallsBackToTheCpuWithOneLineAndHealthSaysWhy() throws Exception {
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer sd = SdServer.start(plugins, Map.of(), "--model", ToyModel.dir().toString(), "--device", "cuda",
                "--cuda-option", "cudnn_conv_algo_search=heuristic", "--cuda-option", "gpu_mem_limit=2G")) {
            JsonNode health = Http.get(sd.baseUrl() + "api/v1/health").json();
            assertEquals("HEURISTIC", health.path("cuda_options").path("cudnn_conv_algo_search").asText(), health.toString());
            assertEquals(Long.toString(2L << 30), health.path("cuda_options").path("gpu_mem_limit").asText(), health.toString());
            String provider = health.path("provider").asText();

            Map<String, Object> request = new LinkedHashMap<>();
            request.put("prompt", "a red circle on a white background");
            request.put("steps", 4);
            request.put("seed", 1);
            Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request);
            assertEquals(200, r.status(), r.body());
            assertFalse(r.json().path("images").path(0).asText().isEmpty(), r.body());

            JsonNode after = Http.get(sd.baseUrl() + "api/v1/health").json();
            assertEquals(provider, after.path("provider").asText(), "the provider does not change once models run: " + after);
            if (provider.equals("CUDA")) {
                assertTrue(after.path("cuda_unavailable").isMissingNode(), after.toString());
                return;
            }
            assertEquals("CPU", provider, health.toString());
            String reason = after.path("cuda_unavailable").asText();
            assertFalse(reason.isBlank(), "health says why CUDA is not used: " + after);
            assertFalse(reason.contains("\n"), reason);
            long lines = sd.log().lines().filter(l -> l.contains(LOG_LINE)).count();
            assertEquals(1, lines, "exactly one log line gives the reason:\n" + sd.log());
            assertTrue(sd.log().contains(LOG_LINE + reason), "the log line and health agree:\n" + sd.log());
        }
    }
}
