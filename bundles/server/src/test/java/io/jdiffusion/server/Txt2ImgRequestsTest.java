package io.jdiffusion.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Txt2ImgRequestsTest {
    static GenerationRequest parse(String json) {
        return Txt2ImgRequests.parse("txt2img", json.getBytes(StandardCharsets.UTF_8));
    }

    static InvalidRequestException bad(String json) {
        return assertThrows(InvalidRequestException.class, () -> parse(json));
    }

    @Test
    void mapsEverySnakeCaseField() {
        GenerationRequest r = parse("""
                {"prompt": "a red circle", "negative_prompt": "blue", "sampler": "euler", "schedule": "karras",
                 "steps": 20, "cfg_scale": 7.5, "seed": 1, "width": 512, "height": 768, "batch_size": 2,
                 "model": "toy"}""");
        assertEquals(new GenerationRequest("txt2img", "a red circle", "blue", "euler", "karras", 20, 7.5, "1",
                512, 768, 2, "toy", Map.of()), r);
    }

    @Test
    void absentAndNullFieldsAreNull() {
        GenerationRequest r = parse("{\"prompt\": \"x\", \"steps\": null, \"eta\": null}");
        assertEquals(GenerationRequest.prompt("x").prompt(), r.prompt());
        assertNull(r.steps());
        assertNull(r.seed());
        assertEquals(Map.of(), r.params());
    }

    @Test
    void otherFieldsBecomeParams() {
        GenerationRequest r = parse("{\"eta\": 0.5, \"s_noise\": 1, \"flag\": true, \"name\": \"n\", \"list\": [1, 2.5]}");
        assertEquals(0.5, r.params().get("eta"));
        assertEquals(1, r.params().get("s_noise"));
        assertEquals(true, r.params().get("flag"));
        assertEquals("n", r.params().get("name"));
        assertEquals(List.of(1, 2.5), r.params().get("list"));
    }

    @Test
    void seedAsNumberOrStringKeepsAllSixtyFourBits() {
        assertEquals("18446744073709551615", parse("{\"seed\": 18446744073709551615}").seed());
        assertEquals("18446744073709551615", parse("{\"seed\": \"18446744073709551615\"}").seed());
        assertEquals("-1", parse("{\"seed\": -1}").seed());
        assertEquals("42", parse("{\"seed\": \" 42 \"}").seed());
        assertEquals("7", parse("{\"seed\": 7.0}").seed());
        assertNull(parse("{\"seed\": \"\"}").seed());
    }

    @Test
    void wrongTypesNameTheField() {
        assertEquals("steps", bad("{\"steps\": \"twenty\"}").field());
        assertEquals("steps", bad("{\"steps\": 20.5}").field());
        assertEquals("steps", bad("{\"steps\": 1e12}").field());
        assertEquals("cfg_scale", bad("{\"cfg_scale\": \"7\"}").field());
        assertEquals("prompt", bad("{\"prompt\": 5}").field());
        assertEquals("negative_prompt", bad("{\"negative_prompt\": [\"a\"]}").field());
        assertEquals("seed", bad("{\"seed\": \"abc\"}").field());
        assertEquals("seed", bad("{\"seed\": 1.5}").field());
        assertEquals("seed", bad("{\"seed\": true}").field());
        assertEquals("width", bad("{\"width\": {}}").field());
        assertEquals("batch_size", bad("{\"batch_size\": false}").field());
        InvalidRequestException e = bad("{\"steps\": \"twenty\"}");
        assertTrue(e.getMessage().contains("integer") && e.getMessage().contains("twenty"), e.getMessage());
    }

    @Test
    void malformedBodiesAreBadRequests() {
        assertEquals("body", bad("{\"prompt\": ").field());
        assertEquals("body", bad("").field());
        assertEquals("body", bad("[1, 2]").field());
        assertEquals("body", bad("\"text\"").field());
        assertEquals("body", bad("{} {}").field());
        assertEquals("body", bad("{\"prompt\": \"a\", \"prompt\": \"b\"}").field());
    }
}
