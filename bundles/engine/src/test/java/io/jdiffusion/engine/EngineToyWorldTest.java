package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.ddim.DdimSampler;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import io.jdiffusion.toyworld.World;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline on the toy world with the real plugins and real ONNX Runtime sessions,
 * without OSGi (the runtime's end-to-end tests cover the same through Felix and HTTP).
 */
class EngineToyWorldTest {
    private static Engine engine;

    @BeforeAll
    static void start() throws IOException {
        Path model = Path.of("target", "toy-world");
        if (!Files.isDirectory(model)) {
            ToyWorld.write(model, ToyWorldOptions.defaults());
        }
        engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", model.toAbsolutePath().toString());
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        engine.register(Sampler.class, new EulerSampler(), "euler", "Euler");
        engine.register(Sampler.class, new DdimSampler(), "ddim", "DDIM");
        engine.register(GenerationMode.class, new Txt2ImgMode(), "txt2img", "txt2img");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
    }

    @AfterAll
    static void stop() {
        engine.deactivate();
    }

    static GenerationRequest request(String prompt, String sampler, long seed) {
        return new GenerationRequest(null, prompt, null, sampler, null, 20, 7.5, Long.toString(seed), 512, 512, 1,
                null, null);
    }

    static BufferedImage image(GenerationResult r, int i) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(r.images().get(i)));
    }

    /** Share of pixels (every 4th of each row and column) whose nearest world colour is the same in both pictures. */
    static double sameColours(BufferedImage a, BufferedImage b) {
        int same = 0;
        int n = 0;
        for (int y = 2; y < a.getHeight(); y += 4) {
            for (int x = 2; x < a.getWidth(); x += 4) {
                n++;
                if (colourAt(a, x, y).equals(colourAt(b, x, y))) {
                    same++;
                }
            }
        }
        return same / (double) n;
    }

    static String colourAt(BufferedImage img, int x, int y) {
        int rgb = img.getRGB(x, y);
        return World.nearestColour((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
    }

    static void assertScene(BufferedImage img, String centre, String corners) {
        int w = img.getWidth();
        int h = img.getHeight();
        assertEquals(centre, colourAt(img, w / 2, h / 2), "centre");
        assertEquals(corners, colourAt(img, 4, 4), "top-left corner");
        assertEquals(corners, colourAt(img, w - 5, 4), "top-right corner");
        assertEquals(corners, colourAt(img, 4, h - 5), "bottom-left corner");
        assertEquals(corners, colourAt(img, w - 5, h - 5), "bottom-right corner");
    }

    @Test
    void eulerDrawsTheRedCircleOnWhite() throws IOException {
        GenerationResult r = engine.generate(request("a red circle on a white background", "euler", 1), null);
        BufferedImage img = image(r, 0);
        assertEquals(512, img.getWidth());
        assertScene(img, "red", "white");
        assertEquals(1L, ((Number) r.info().get("seed")).longValue());
        String infotext = (String) r.info().get("infotext");
        assertTrue(infotext.startsWith("a red circle on a white background\nSteps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 1, Size: 512x512"), infotext);
    }

    @Test
    void ddimDrawsTheRedCircleOnWhite() throws IOException {
        assertScene(image(engine.generate(request("a red circle on a white background", "DDIM", 1), null), 0),
                "red", "white");
    }

    @Test
    void colourWordsChangeThePicture() throws IOException {
        assertScene(image(engine.generate(request("a blue circle on a white background", "euler", 1), null), 0),
                "blue", "white");
        assertScene(image(engine.generate(request("a yellow star on a purple background", "ddim", 7), null), 0),
                "yellow", "purple");
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBackground() {
        GenerationRequest a = request("a green square", "euler", 42);
        assertArrayEquals(engine.generate(a, null).images().get(0), engine.generate(a, null).images().get(0));
        GenerationResult batch = engine.generate(new GenerationRequest(null, "a green square", null, "euler", null,
                20, 7.5, "42", 512, 512, 3, null, null), null);
        assertEquals(3, batch.images().size());
        assertArrayEquals(engine.generate(a, null).images().get(0), batch.images().get(0),
                "image 0 of a batch is the single image of its seed");
        assertFalse(java.util.Arrays.equals(batch.images().get(0), batch.images().get(1)));
    }

    @Test
    void nonSquareSizesWork() throws IOException {
        BufferedImage img = image(engine.generate(new GenerationRequest(null, "a red circle on a white background",
                null, "euler", null, 20, 7.5, "3", 768, 512, 1, null, null), null), 0);
        assertEquals(768, img.getWidth());
        assertEquals(512, img.getHeight());
        assertScene(img, "red", "white");
    }

    @Test
    void nvNoiseSourceIsSelectableAndRecorded() throws IOException {
        GenerationRequest nv = new GenerationRequest(null, "a red circle on a white background", null, "euler", null,
                20, 7.5, "1", 512, 512, 1, null, Map.of("noise_source", "nv"));
        GenerationResult r = engine.generate(nv, null);
        assertScene(image(r, 0), "red", "white");
        assertTrue(((String) r.info().get("infotext")).endsWith("RNG: NV"), (String) r.info().get("infotext"));
        assertEquals("nv", r.info().get("noise_source"));
        assertFalse(java.util.Arrays.equals(r.images().get(0),
                engine.generate(request("a red circle on a white background", "euler", 1), null).images().get(0)));
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, null, null, null, null, null, null, null, null, null,
                        Map.of("noise_source", "gpu")), null));
        assertEquals("noise_source", e.field());
    }

    @Test
    void badRequestsNameTheField() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, null, null, 0, null, null, null, null, null, null, null), null));
        assertEquals("steps", e.field());
        e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, null, null, null, null, null, 100, null, null, null, null), null));
        assertEquals("width", e.field());
        assertTrue(e.getMessage().contains("multiple of 64"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, "nope", null, null, null, null, null, null, null, null, null), null));
        assertEquals("sampler", e.field());
        assertTrue(e.getMessage().contains("euler (Euler)"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, null, null, null, 31.0, null, null, null, null, null, null), null));
        assertEquals("cfg_scale", e.field());
        e = assertThrows(InvalidRequestException.class, () -> engine.generate(
                new GenerationRequest(null, "x", null, null, null, null, null, "abc", null, null, null, null, null), null));
        assertEquals("seed", e.field());
    }
}
