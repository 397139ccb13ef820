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
import io.jdiffusion.modes.inpaint.InpaintMode;
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
 * Inpainting through the engine on the toy world: the masked centre (holding the red square) is repainted
 * blue, the unmasked border keeps the original's pixels exactly. (The toy world knows only whole centred
 * shapes in one colour, so a mask through the middle of the square would ask for a scene it cannot draw.)
 */
class InpaintEngineTest {
    private static final int SIDE = 256;
    private static Engine engine;
    private static BufferedImage init;
    private static String initB64;
    private static String centreMask;
    /** The mask is white on [MARGIN, SIDE - MARGIN) in both directions: the square (64..192) and some white. */
    private static final int MARGIN = 40;

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
        engine.register(GenerationMode.class, new InpaintMode(), "inpaint", "inpaint");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
        byte[] png = Img2ImgEngineTest.redSquarePng(SIDE);
        init = ImageIO.read(new ByteArrayInputStream(png));
        initB64 = Base64.getEncoder().encodeToString(png);
        BufferedImage mask = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = mask.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(MARGIN, MARGIN, SIDE - 2 * MARGIN, SIDE - 2 * MARGIN);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(mask, "png", out);
        centreMask = Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @AfterAll
    static void stop() {
        engine.deactivate();
    }

    private static GenerationRequest inpaint(String sampler, Map<String, Object> params) {
        return new GenerationRequest("inpaint", "a blue square on a white background", null, sampler, null, 20, 7.0, "1",
                SIDE, SIDE, null, null, params);
    }

    private static Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("init_image", initB64);
        p.put("mask", centreMask);
        p.put("strength", 0.8);
        return p;
    }

    private static String colourAt(BufferedImage img, int x, int y) {
        int rgb = img.getRGB(x, y);
        return World.nearestColour((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
    }

    @Test
    void onlyTheMaskedAreaIsRepainted() throws IOException {
        for (String sampler : new String[] {"euler", "ddim"}) {
            GenerationResult r = engine.generate(inpaint(sampler, params()), null);
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.images().get(0)));
            assertEquals("blue", colourAt(img, SIDE / 2, SIDE / 2), sampler + ": the masked square");
            assertEquals("blue", colourAt(img, SIDE * 3 / 8, SIDE * 5 / 8), sampler + ": the masked square");
            assertEquals("white", colourAt(img, SIDE / 2, MARGIN + 8), sampler + ": masked white stays white");
            // outside the mask's blurred edge (4 px blur, 3 sigma = 12 px) every pixel is the original's
            int exact = MARGIN - 13;
            for (int y = 0; y < SIDE; y += 2) {
                for (int x = 0; x < SIDE; x += 2) {
                    boolean border = x < exact || y < exact || x >= SIDE - exact || y >= SIDE - exact;
                    if (border) {
                        assertEquals(init.getRGB(x, y), img.getRGB(x, y), sampler + " at " + x + "," + y);
                    }
                }
            }
            String infotext = (String) r.info().get("infotext");
            assertTrue(infotext.contains("Denoising strength: 0.8") && infotext.contains("Mask blur: 4"), infotext);
        }
    }

    @Test
    void aMissingMaskIsA400NamingIt() {
        Map<String, Object> p = params();
        p.remove("mask");
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> engine.generate(inpaint("euler", p), null));
        assertEquals("mask", e.field());
        Map<String, Object> blur = params();
        blur.put("mask_blur", 100);
        e = assertThrows(InvalidRequestException.class, () -> engine.generate(inpaint("euler", blur), null));
        assertEquals("mask_blur", e.field());
    }
}
