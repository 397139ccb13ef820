package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sd bench} runs and reports sane figures (never timings checked against a limit: speed is what
 * the command measures, not what a test asserts). Tiny settings: 128x128, a 32-wide synthetic UNet.
 */
@Timeout(600)
class BenchEndToEndTest {
    private record Result(int code, String output) {
        String[] lines() {
            return output.strip().split("\n");
        }

        JsonNode summary() throws Exception {
            String[] l = lines();
            return Http.JSON.readTree(l[l.length - 1]);
        }
    }

    @Test
    void cpuBenchReportsBothUnetsRatiosAndPeakMemory() throws Exception {
        Result r = bench("--device", "cpu", "--size", "128", "--unet-width", "32", "--calls", "2", "--warmup", "1");
        assertEquals(0, r.code(), r.output());
        JsonNode s = r.summary();
        assertEquals(128, s.path("size").asInt(), r.output());
        assertEquals(2, s.path("batch").asInt(), r.output());
        List<String> seen = new ArrayList<>();
        for (JsonNode one : s.path("results")) {
            seen.add(one.path("model").asText() + "/" + one.path("provider").asText());
            saneFigures(one, s.path("peak_rss_mb").asLong(), r.output());
        }
        assertEquals(List.of("toy-world/CPU", "synthetic-sd15/CPU"), seen, r.output());
        assertTrue(s.path("results").path(1).path("tflops").asDouble() > 0, r.output());
        assertTrue(r.output().contains("synthetic SD-1.5 UNet / toy world on CPU: "), r.output());
        assertTrue(r.output().matches("(?s).*synthetic SD-1.5-shaped UNet \\(width 32\\): [0-9.]+ M parameters.*"), r.output());
        assertTrue(r.output().matches("(?s).*peak RSS [0-9.]+ GB \\(VmHWM\\).*"), r.output());
    }

    /** Here (no CUDA 12 libraries) CUDA does not load: the reason, the CPU figures all the same, exit 1. */
    @Test
    void cudaBenchSaysWhetherCudaLoadsAndAlwaysMeasuresTheCpu() throws Exception {
        Result r = bench("--device", "cuda", "--size", "64", "--no-synthetic", "--calls", "1", "--warmup", "0",
                "--cuda-option", "cudnn_conv_algo_search=HEURISTIC");
        JsonNode s = r.summary();
        List<String> providers = new ArrayList<>();
        for (JsonNode one : s.path("results")) {
            providers.add(one.path("provider").asText());
            saneFigures(one, s.path("peak_rss_mb").asLong(), r.output());
        }
        if (s.has("cuda_unavailable")) {
            assertEquals(1, r.code(), r.output());
            assertEquals(List.of("CPU"), providers, r.output());
            assertTrue(r.output().contains("CUDA: unavailable, " + s.path("cuda_unavailable").asText()), r.output());
        } else {
            assertEquals(0, r.code(), r.output());
            assertEquals(List.of("CUDA", "CPU"), providers, r.output());
            assertTrue(r.output().contains("toy-world: CUDA is "), r.output());
        }
    }

    @Test
    void badSettingsAreUsageErrors() throws Exception {
        Result size = bench("--size", "100");
        assertEquals(2, size.code(), size.output());
        assertTrue(size.output().contains("--size must be a multiple of 64"), size.output());
        Result width = bench("--unet-width", "48");
        assertEquals(2, width.code(), width.output());
        assertTrue(width.output().contains("--unet-width must be a multiple of 32"), width.output());
    }

    private static void saneFigures(JsonNode one, long peakMb, String output) {
        double ms = one.path("ms_per_call").asDouble();
        assertTrue(ms > 0, output);
        assertTrue(one.path("min_ms_per_call").asDouble() <= ms, output);
        assertEquals(1000 / ms, one.path("steps_per_s").asDouble(), 1000 / ms * 0.01 + 0.002, "steps/s = 1000 / ms per call: " + output);
        assertTrue(one.path("load_ms").asDouble() > 0, output);
        long rss = one.path("rss_mb").asLong();
        assertTrue(rss > 0 && rss <= peakMb, "0 < RSS " + rss + " <= peak " + peakMb + ": " + output);
    }

    private static Result bench(String... args) throws Exception {
        Path log = Files.createTempFile(SdServer.targetDir(), "sd-bench-", ".log");
        List<String> a = new ArrayList<>(List.of("bench"));
        a.addAll(List.of(args));
        Process p = SdServer.command(a, Map.of()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("sd bench did not finish in 5 minutes:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
