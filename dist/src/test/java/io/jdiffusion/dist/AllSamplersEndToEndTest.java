package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every built-in sampler through the real server on the toy world: listed with id and label, and
 * drawing the prompted scene at its usual step count (the toy UNet is an exact denoiser, so a
 * wrong sigma or scaling shows as a wrong or noisy picture).
 */
@Timeout(600)
class AllSamplersEndToEndTest {
    static final List<String> SAMPLERS = List.of("ddim", "pndm", "lms", "euler", "euler_a", "heun", "dpm2", "dpm2_a",
            "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_2s_a", "dpmpp_sde", "unipc", "ddpm", "lcm");
    private static SdServer sd;

    @BeforeAll
    static void start() throws Exception {
        sd = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"));
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    private static Map<String, Object> request(String sampler, int steps) {
        return request(sampler, steps, 7.5);
    }

    private static Map<String, Object> request(String sampler, int steps, double cfg) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cfg_scale", cfg);
        r.put("prompt", "a red circle on a white background");
        r.put("sampler", sampler);
        r.put("steps", steps);
        r.put("seed", 11);
        r.put("width", 512);
        r.put("height", 512);
        return r;
    }

    private static byte[] generate(Map<String, Object> request) throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request);
        assertEquals(200, r.status(), request + " -> " + r.body());
        return Http.firstImage(r.json());
    }

    @Test
    void everySamplerIsListedWithIdAndLabel() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/samplers");
        assertEquals(200, r.status(), r.body());
        Map<String, String> labels = new LinkedHashMap<>();
        for (JsonNode s : r.json()) labels.put(s.path("id").asText(), s.path("label").asText());
        for (String id : SAMPLERS) {
            assertTrue(labels.containsKey(id) && !labels.get(id).isBlank(), id + " missing from " + labels);
        }
        assertEquals("DPM++ 2M", labels.get("dpmpp_2m"));
        assertEquals("Euler a", labels.get("euler_a"));
        assertEquals("PLMS", labels.get("pndm"));
    }

    /**
     * DPM2 and DPM2 a at CFG 3: their midpoint evaluation of a strongly extrapolated guided estimate
     * (CFG 7.5) lands the toy world's exact denoiser far outside its 392 scenes, where the nearest
     * scene can be another one; on real models A1111 users run them at 7. See the issue notes.
     */
    @ParameterizedTest
    @CsvSource({"ddim,20,7.5", "pndm,20,7.5", "lms,20,7.5", "euler,20,7.5", "euler_a,20,7.5", "heun,20,7.5",
            "dpm2,20,3", "dpm2_a,20,3", "dpmpp_2m,20,7.5", "dpmpp_2m_sde,20,7.5", "dpmpp_2s_a,20,7.5",
            "dpmpp_sde,20,7.5", "unipc,20,7.5", "ddpm,50,7.5", "lcm,6,7.5"})
    void drawsTheRedCircleOnWhite(String sampler, int steps, double cfg) throws Exception {
        BufferedImage img = Png.image(generate(request(sampler, steps, cfg)));
        assertEquals("red", Png.centre(img), sampler);
        for (String corner : Png.corners(img)) {
            assertEquals("white", corner, sampler);
        }
    }

    @ParameterizedTest
    @CsvSource({"DPM++ 2M Karras, Karras", "Euler, ", "DPM++ SDE, ", "Euler a, "})
    void theSameRequestTwiceGivesTheSameBytesAndNamesItsSettings(String label, String schedule) throws Exception {
        Map<String, Object> req = request(label, 20);
        byte[] a = generate(req);
        byte[] b = generate(req);
        assertArrayEquals(a, b, label);
        String params = Png.textChunks(a).get("parameters");
        String sampler = schedule == null ? label : label.substring(0, label.length() - schedule.length() - 1);
        assertTrue(params.contains("Sampler: " + sampler + ","), params);
        if (schedule != null) {
            assertTrue(params.contains("Schedule type: " + schedule), params);
        }
        assertTrue(params.contains("Seed: 11,"), params);
        assertTrue(params.contains("RNG: CPU"), params);
        assertEquals("red", Png.centre(Png.image(a)), label);
    }

    @Test
    void aScheduleIsRefusedForASamplerWithItsOwnSpacing() throws Exception {
        Map<String, Object> req = request("ddim", 20);
        req.put("schedule", "karras");
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", req);
        assertEquals(400, r.status(), r.body());
        assertEquals("schedule", r.json().path("field").asText(), r.body());
    }

    @Test
    void anUnknownSamplerListsTheAvailableOnes() throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", request("nope", 20));
        assertEquals(400, r.status(), r.body());
        assertTrue(r.body().contains("dpmpp_2m (DPM++ 2M)"), r.body());
    }

}
