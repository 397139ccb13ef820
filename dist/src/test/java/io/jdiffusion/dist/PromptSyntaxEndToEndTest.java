package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The A1111 prompt syntax bundle wired to the CLIP conditioner through Felix's Declarative
 * Services, over HTTP: weights move the toy world's colour, long prompts and BREAK work, and the
 * token count leaves the syntax out.
 */
@Timeout(600)
class PromptSyntaxEndToEndTest {
    private static SdServer sd;

    @BeforeAll
    static void start() throws Exception {
        sd = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"));
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    private static String centre(String prompt) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", prompt);
        r.put("steps", 20);
        r.put("seed", 1);
        Http.Response res = Http.post(sd.baseUrl() + "api/v1/txt2img", r);
        assertEquals(200, res.status(), res.body());
        return Png.centre(Png.image(Http.firstImage(res.json())));
    }

    @Test
    void weightsChooseTheColour() throws Exception {
        assertEquals("red", centre("a (red:1.5) and blue circle on a white background"));
        assertEquals("blue", centre("a red and (blue:1.5) circle on a white background"));
    }

    @Test
    void longPromptsAndBreakWork() throws Exception {
        assertEquals("red", centre("a red circle on a white background" + ", circle".repeat(60)));
        assertEquals("red", centre("a red circle BREAK on a white background"));
    }

    @Test
    void theTokenCountLeavesTheSyntaxOut() throws Exception {
        Http.Response r = Http.get(sd.baseUrl() + "api/v1/tokens?prompt="
                + URLEncoder.encode("((red:1.3)) [circle]", StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.body());
        JsonNode json = r.json();
        assertEquals(2, json.path("tokens").asInt(), r.body());
    }
}
