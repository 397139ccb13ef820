package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Inpainting end to end (the io.jdiffusion.mode.inpaint bundle in Felix, HTTP, the CLI): a mask over the
 * centre of a red square on white repaints the square blue and leaves every pixel outside the mask as it was.
 * The toy world draws only whole centred shapes, so the mask holds the whole square rather than half of it.
 */
@Timeout(600)
class InpaintEndToEndTest {
    static final int SIDE = 256;
    static final int MARGIN = 40;
    private static SdServer sd;
    private static byte[] init;
    private static byte[] mask;

    @BeforeAll
    static void start() throws Exception {
        sd = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"));
        init = Img2ImgEndToEndTest.redSquareOnWhite(SIDE);
        mask = centreMask(SIDE, MARGIN);
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    /** White (repaint) on [margin, side - margin) in both directions, black (keep) around it. */
    static byte[] centreMask(int side, int margin) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(margin, margin, side - 2 * margin, side - 2 * margin);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static Map<String, Object> request() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", "a blue square on a white background");
        r.put("init_image", Base64.getEncoder().encodeToString(init));
        r.put("mask", "data:image/png;base64," + Base64.getEncoder().encodeToString(mask));
        r.put("strength", 0.8);
        r.put("steps", 20);
        r.put("seed", 1);
        r.put("width", SIDE);
        r.put("height", SIDE);
        return r;
    }

    /** The masked square is blue; outside the mask's blurred edge (4 px, 3 sigma) the pixels are the input's. */
    static void assertOnlyTheMaskChanged(BufferedImage out) {
        BufferedImage in = Png.image(init);
        assertEquals("blue", Png.centre(out));
        int exact = MARGIN - 13;
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                if (x < exact || y < exact || x >= SIDE - exact || y >= SIDE - exact) {
                    assertEquals(in.getRGB(x, y), out.getRGB(x, y), "pixel " + x + "," + y + " outside the mask");
                }
            }
        }
    }

    @Test
    void theMaskedSquareTurnsBlueAndNothingElseChanges() throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/inpaint", request());
        assertEquals(200, r.status(), r.body());
        JsonNode body = r.json();
        byte[] png = Http.firstImage(body);
        assertOnlyTheMaskChanged(Png.image(png));
        String infotext = Png.textChunks(png).get("parameters");
        assertTrue(infotext.contains("Mode: inpaint") && infotext.contains("Mask blur: 4"), infotext);
        assertEquals("inpaint", body.path("info").path("mode").asText(), body.toString());
    }

    @Test
    void aMissingOrBrokenMaskIsA400NamingIt() throws Exception {
        Map<String, Object> missing = request();
        missing.remove("mask");
        Map<String, Object> broken = request();
        broken.put("mask", "bm90IGEgcGljdHVyZQ==");
        for (Map<String, Object> req : List.of(missing, broken)) {
            Http.Response r = Http.post(sd.baseUrl() + "api/v1/inpaint", req);
            assertEquals(400, r.status(), r.body());
            assertEquals("mask", r.json().path("field").asText(), r.body());
        }
    }

    @Test
    void generateTakesAMaskFile() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-inpaint-");
        Files.write(dir.resolve("init.png"), init);
        Files.write(dir.resolve("mask.png"), mask);
        Path out = dir.resolve("out.png");
        Path log = dir.resolve("log.txt");
        Process p = SdServer.command(List.of("generate", "--prompt", "a blue square on a white background",
                        "--init-image", dir.resolve("init.png").toString(), "--mask", dir.resolve("mask.png").toString(),
                        "--strength", "0.8", "--steps", "20", "--seed", "1", "--width", "256", "--height", "256",
                        "--model", ToyModel.dir().toString(), "--plugins", dir.resolve("plugins").toString(),
                        "--out", out.toString()), Map.of())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("generate did not finish:\n" + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("\"mode\":\"inpaint\""), Files.readString(log));
        assertOnlyTheMaskChanged(Png.image(Files.readAllBytes(out)));
    }
}
