package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sd bench --model DIR} on toy folders shaped like real exports: a float16 SD 1.x inpainting UNet (9 input
 * channels) at {@code --size}, and a float16 SDXL UNet (text_embeds + time_ids) at its default resolution. The
 * engine bundle loads and calls the UNet, so the report says what it fed. No timing is checked against a limit.
 */
@Timeout(600)
class BenchModelEndToEndTest {
    @TempDir
    Path temp;

    @Test
    void float16InpaintingUnetAtAGivenSize() throws Exception {
        Path model = ToyWorld.write(temp.resolve("sd1-fp16-inpaint"), ToyWorldOptions.defaults()
                .withPrecision(ToyWorldOptions.Precision.FLOAT16).withUnetVariant(ToyWorldOptions.UnetVariant.INPAINT));
        Result r = bench("--model", model.toString(), "--device", "cpu", "--size", "128", "--calls", "2", "--warmup", "1");
        assertEquals(0, r.code(), r.output());
        JsonNode s = r.summary();
        assertEquals(128, s.path("size").asInt(), r.output());
        JsonNode m = s.path("model");
        assertEquals("float16", m.path("dtype").asText(), r.output());
        assertEquals(9, m.path("in_channels").asInt(), r.output());
        assertEquals("sd1", m.path("family").asText(), r.output());
        assertEquals(128, m.path("width").asInt(), r.output());
        assertEquals(List.of("sd1-fp16-inpaint/CPU"), runs(s, r.output()), r.output());
        assertTrue(r.output().contains("model " + model + ": sd1 float16, UNet in_channels 9"), r.output());
        assertTrue(r.output().contains("jdiffusion bench: 128x128 images"), r.output());
    }

    @Test
    void float16SdxlUnetAtItsDefaultResolution() throws Exception {
        Path model = ToyWorld.write(temp.resolve("sdxl-fp16"),
                ToyWorldOptions.sdxl().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        // the default resolution: the UNet's sample_size times the VAE factor (8), from the folder's own config
        int side = Http.JSON.readTree(model.resolve("unet/config.json").toFile()).path("sample_size").asInt() * 8;
        Result r = bench("--model", model.toString(), "--device", "cpu", "--calls", "1", "--warmup", "0");
        assertEquals(0, r.code(), r.output());
        JsonNode s = r.summary();
        assertEquals(side, s.path("size").asInt(), r.output());
        JsonNode m = s.path("model");
        assertEquals("sdxl", m.path("family").asText(), r.output());
        assertEquals("float16", m.path("dtype").asText(), r.output());
        assertEquals(4, m.path("in_channels").asInt(), r.output());
        assertTrue(m.path("inputs").toString().contains("\"text_embeds\"")
                && m.path("inputs").toString().contains("\"time_ids\""), r.output());
        assertEquals(2048, m.path("encoder_hidden_states").path(2).asInt(), "768 + 1280 wide: " + r.output());
        assertEquals(List.of("sdxl-fp16/CPU"), runs(s, r.output()), r.output());
    }

    @Test
    void aFolderThatIsNotAModelIsAUsageError() throws Exception {
        Path empty = Files.createDirectories(temp.resolve("empty"));
        Result r = bench("--model", empty.toString(), "--device", "cpu", "--calls", "1");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("--model: ") && r.output().contains("missing"), r.output());
        Result none = bench("--model", temp.resolve("nowhere").toString());
        assertEquals(2, none.code(), none.output());
        assertTrue(none.output().contains("--model: not a folder"), none.output());
    }

    private record Result(int code, String output) {
        JsonNode summary() throws Exception {
            String[] l = output.strip().split("\n");
            return Http.JSON.readTree(l[l.length - 1]);
        }
    }

    /** model/provider of each result, after checking its figures are sane. */
    private static List<String> runs(JsonNode s, String output) {
        List<String> seen = new ArrayList<>();
        for (JsonNode one : s.path("results")) {
            seen.add(one.path("model").asText() + "/" + one.path("provider").asText());
            double ms = one.path("ms_per_call").asDouble();
            assertTrue(ms > 0 && one.path("min_ms_per_call").asDouble() <= ms, output);
            assertEquals(1000 / ms, one.path("steps_per_s").asDouble(), 1000 / ms * 0.01 + 0.002, output);
            assertTrue(one.path("load_ms").asDouble() > 0, output);
            assertEquals("float16", one.path("dtype").asText(), output);
            long rss = one.path("rss_mb").asLong();
            assertTrue(rss > 0 && rss <= s.path("peak_rss_mb").asLong(), output);
        }
        return seen;
    }

    private static Result bench(String... args) throws Exception {
        Path log = Files.createTempFile(SdServer.targetDir(), "sd-bench-model-", ".log");
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
