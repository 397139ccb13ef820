package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.modes.img2img.Img2ImgMode;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.ddim.DdimSampler;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import io.jdiffusion.toyworld.World;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * img2img through the engine with the real mode plugin, VAE encoder and samplers on the toy world
 * (sigma-form noising with Euler, alpha-form with DDIM), without OSGi or HTTP.
 */
class Img2ImgEngineTest {
    private static final int SIDE = 256;
    private static Engine engine;
    private static String redSquare;

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
        engine.register(GenerationMode.class, new Img2ImgMode(), "img2img", "img2img");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
        redSquare = Base64.getEncoder().encodeToString(redSquarePng(SIDE));
    }

    @AfterAll
    static void stop() {
        engine.deactivate();
    }

    /** A red square (half the side, centred, as the toy world draws it) on white, drawn with java.awt. */
    static byte[] redSquarePng(int side) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        int[] white = World.rgb("white");
        int[] red = World.rgb("red");
        g.setColor(new Color(white[0], white[1], white[2]));
        g.fillRect(0, 0, side, side);
        g.setColor(new Color(red[0], red[1], red[2]));
        g.fillRect(side / 4, side / 4, side / 2, side / 2);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static GenerationRequest img2img(String prompt, String sampler, Map<String, Object> params) {
        return new GenerationRequest("img2img", prompt, null, sampler, null, 20, 7.0, "1", SIDE, SIDE, null, null, params);
    }

    private static Map<String, Object> params(Object strength) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("init_image", redSquare);
        if (strength != null) p.put("strength", strength);
        return p;
    }

    private static BufferedImage image(GenerationResult r) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(r.images().get(0)));
    }

    private static String colourAt(BufferedImage img, int x, int y) {
        int rgb = img.getRGB(x, y);
        return World.nearestColour((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
    }

    @Test
    void strongDenoisingFollowsThePromptWeakKeepsTheImage() throws IOException {
        for (String sampler : new String[] {"euler", "ddim"}) {
            BufferedImage blue = image(engine.generate(img2img("a blue square on a white background", sampler, params(0.8)), null));
            assertEquals("blue", colourAt(blue, SIDE / 2, SIDE / 2), sampler);
            assertEquals("white", colourAt(blue, 8, 8), sampler);
            BufferedImage red = image(engine.generate(img2img("a blue square on a white background", sampler, params(0.2)), null));
            assertEquals("red", colourAt(red, SIDE / 2, SIDE / 2), sampler);
            assertEquals("white", colourAt(red, 8, 8), sampler);
        }
    }

    @Test
    void strengthZeroGivesTheInputBackAndTheInfotextSaysTheStrength() throws IOException {
        GenerationResult r = engine.generate(img2img("a blue square on a white background", "euler", params(0)), null);
        BufferedImage img = image(r);
        assertEquals("red", colourAt(img, SIDE / 2, SIDE / 2));
        assertEquals("white", colourAt(img, 8, 8));
        String infotext = (String) r.info().get("infotext");
        assertTrue(infotext.contains(", Denoising strength: 0, ") || infotext.contains(", Denoising strength: 0.0, "),
                infotext);
        assertTrue(infotext.contains("Mode: img2img"), infotext);
        GenerationResult eight = engine.generate(img2img("a blue square", "euler", params(0.8)), null);
        assertTrue(((String) eight.info().get("infotext")).contains("Denoising strength: 0.8"), eight.info().toString());
    }

    @Test
    void theSameSeedGivesTheSameBytes() {
        GenerationRequest r = img2img("a green square on a white background", "euler", params(0.6));
        assertTrue(java.util.Arrays.equals(engine.generate(r, null).images().get(0), engine.generate(r, null).images().get(0)));
    }

    @Test
    void eachImageOfABatchIsItsSeedAlone() {
        Map<String, Object> p = params(0.6);
        GenerationResult batch = engine.generate(new GenerationRequest("img2img", "a green square", null, "euler", null,
                10, 7.0, "5", SIDE, SIDE, 2, null, p), null);
        GenerationResult second = engine.generate(new GenerationRequest("img2img", "a green square", null, "euler", null,
                10, 7.0, "6", SIDE, SIDE, 1, null, p), null);
        assertTrue(java.util.Arrays.equals(second.images().get(0), batch.images().get(1)));
    }

    /** Without width and height the output takes the init image's size (sides down to a multiple of 64), as diffusers. */
    @Test
    void withoutASizeTheInitImageGivesIt() throws IOException {
        int[][] cases = {{384, 256, 384, 256}, {500, 300, 448, 256}, {4096, 1024, 2048, 512}};
        for (int[] c : cases) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("init_image", Base64.getEncoder().encodeToString(png(c[0], c[1])));
            p.put("strength", 0);
            BufferedImage out = image(engine.generate(new GenerationRequest("img2img", "a red square", null, "euler",
                    null, 1, 7.0, "1", null, null, null, null, p), null));
            assertEquals(c[2] + "x" + c[3], out.getWidth() + "x" + out.getHeight(), c[0] + "x" + c[1]);
        }
        Map<String, Object> p = params(0);
        BufferedImage asked = image(engine.generate(new GenerationRequest("img2img", "a red square", null, "euler",
                null, 1, 7.0, "1", 128, 192, null, null, p), null));
        assertEquals("128x192", asked.getWidth() + "x" + asked.getHeight(), "a size the request names wins");
    }

    private static byte[] png(int w, int h) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    @Test
    void badInputsNameTheField() {
        Map<String, Object> noImage = new LinkedHashMap<>();
        noImage.put("strength", 0.5);
        Map<String, Object> notImage = params(0.5);
        notImage.put("init_image", Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4}));
        Map<String, Object> badResize = params(0.5);
        badResize.put("resize_mode", 7);
        Object[][] cases = {{params(1.5), "strength"}, {params("lots"), "strength"}, {noImage, "init_image"},
            {notImage, "init_image"}, {badResize, "resize_mode"}};
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Map<String, Object> p = (Map<String, Object>) c[0];
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> engine.generate(img2img("a red square", "euler", p), null));
            assertEquals(c[1], e.field(), e.getMessage());
        }
    }
}
