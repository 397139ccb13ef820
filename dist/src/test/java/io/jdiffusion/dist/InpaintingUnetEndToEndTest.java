package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.engine.image.WebpLossless;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Inpainting with the toy world's 9-channel inpainting UNet through the HTTP API: the mode feeds the mask and the
 * masked image's latents (diffusers' layout), so half a square can be repainted; A1111's "masked content"
 * options; which modes a 9-channel model serves; WebP images over HTTP.
 */
@Timeout(600)
class InpaintingUnetEndToEndTest {
    static final int SIDE = 256;
    /** Outside this distance from the mask's edge the default 4 px blur (3 sigma + rounding) leaves pixels exact. */
    static final int EDGE = 14;
    private static SdServer sd;
    private static byte[] init;
    private static byte[] leftMask;

    @BeforeAll
    static void start() throws Exception {
        sd = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", ToyModel.dir().toString(), "--models-dir", ToyModel.modelsDir().toString());
        init = Img2ImgEndToEndTest.redSquareOnWhite(SIDE);
        leftMask = png(leftHalf(SIDE));
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    static BufferedImage leftHalf(int side) {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, side / 2, side);
        g.dispose();
        return img;
    }

    static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static Map<String, Object> request(Object fill, double strength) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", ToyModel.INPAINT_ID);
        r.put("prompt", "a blue square on a white background");
        r.put("init_image", Base64.getEncoder().encodeToString(init));
        r.put("mask", Base64.getEncoder().encodeToString(leftMask));
        r.put("strength", strength);
        if (fill != null) r.put("inpainting_fill", fill);
        r.put("steps", 20);
        r.put("seed", 3);
        r.put("width", SIDE);
        r.put("height", SIDE);
        return r;
    }

    static Http.Response post(Map<String, Object> req) throws Exception {
        return Http.post(sd.baseUrl() + "api/v1/inpaint", req);
    }

    /** The left half of the square blue, the right half of the image the input's pixels exactly. */
    static void assertOnlyTheLeftHalfChanged(BufferedImage out, BufferedImage in) {
        assertEquals("blue", Png.colourAt(out, SIDE / 2 - 30, SIDE / 2), "the masked half of the square");
        assertEquals("blue", Png.colourAt(out, SIDE / 4 + 5, SIDE / 4 + 5));
        assertEquals("white", Png.colourAt(out, 20, SIDE / 2), "the masked background");
        assertEquals("white", Png.colourAt(out, SIDE / 2 - 30, 20));
        for (int y = 0; y < SIDE; y++)
            for (int x = SIDE / 2 + EDGE; x < SIDE; x++)
                assertEquals(in.getRGB(x, y), out.getRGB(x, y), "pixel " + x + "," + y + " outside the mask");
    }

    @Test
    void halfTheSquareIsRepaintedAndTheOtherHalfStays() throws Exception {
        Http.Response r = post(request(null, 1.0));
        assertEquals(200, r.status(), r.body());
        byte[] png = Http.firstImage(r.json());
        BufferedImage out = Png.image(png);
        assertOnlyTheLeftHalfChanged(out, Png.image(init));
        assertEquals("red", Png.colourAt(out, SIDE / 2 + 30, SIDE / 2), "the kept half of the square");
        String infotext = Png.textChunks(png).get("parameters");
        assertTrue(infotext.contains("Model: " + ToyModel.INPAINT_ID) || infotext.contains(ToyModel.INPAINT_ID), infotext);
        assertFalse(infotext.contains("Masked content"), "A1111 writes nothing for 'original': " + infotext);
    }

    @Test
    void withoutPasteBackTheModelItselfKeepsTheUnmaskedHalf() throws Exception {
        Map<String, Object> req = request(null, 1.0);
        req.put("paste_back", 0);
        Http.Response r = post(req);
        assertEquals(200, r.status(), r.body());
        BufferedImage out = Png.image(Http.firstImage(r.json()));
        assertEquals("blue", Png.colourAt(out, SIDE / 2 - 30, SIDE / 2));
        assertEquals("red", Png.colourAt(out, SIDE / 2 + 30, SIDE / 2));
        // no latent blending, no paste-back: outside the mask the 9-channel UNet's own prediction is the known
        // image, so the result there is the VAE round trip of the input (img2img at strength 0 shows it)
        Map<String, Object> roundTrip = request(null, 0.0);
        roundTrip.remove("mask");
        roundTrip.remove("model");
        Http.Response rt = Http.post(sd.baseUrl() + "api/v1/img2img", roundTrip);
        assertEquals(200, rt.status(), rt.body());
        BufferedImage vae = Png.image(Http.firstImage(rt.json()));
        int worst = 0;
        for (int y = 0; y < SIDE; y++)
            for (int x = SIDE / 2 + 16; x < SIDE; x++) {
                int a = vae.getRGB(x, y), b = out.getRGB(x, y);
                for (int s = 0; s <= 16; s += 8) worst = Math.max(worst, Math.abs(((a >> s) & 0xff) - ((b >> s) & 0xff)));
            }
        assertTrue(worst <= 3, "outside the mask the output differs from the VAE round trip by up to " + worst);
    }

    /**
     * At strength 0 nothing is denoised: the image is the decoded start latents, so it shows what each "masked
     * content" option put there (A1111's processing.py): the original, blurred surroundings, noise, zeros.
     */
    @Test
    void maskedContentOptionsStartFromWhatA1111StartsFrom() throws Exception {
        Map<Integer, BufferedImage> out = new LinkedHashMap<>();
        Map<Integer, String> infotext = new LinkedHashMap<>();
        for (int fill = 0; fill <= 3; fill++) {
            Map<String, Object> req = request(fill, 0.0);
            req.put("paste_back", 0);
            Http.Response r = post(req);
            assertEquals(200, r.status(), r.body());
            byte[] png = Http.firstImage(r.json());
            out.put(fill, Png.image(png));
            infotext.put(fill, Png.textChunks(png).get("parameters"));
        }
        int cx = SIDE / 2 - 30, cy = SIDE / 2; // in the masked half of the square
        assertEquals("red", Png.colourAt(out.get(1), cx, cy), "original: the red square is still there");
        assertNotEquals("red", Png.colourAt(out.get(0), cx, cy), "fill: painted over with the surroundings");
        assertTrue(green(out.get(0), cx, cy) > 150, "fill: mostly the white around it, got green " + green(out.get(0), cx, cy));
        assertTrue(std(out.get(2), 8, 8, SIDE / 2 - 24, SIDE - 24) > 20, "latent noise: noisy");
        assertTrue(std(out.get(3), 8, 8, SIDE / 2 - 24, SIDE - 24) < 2, "latent nothing: one flat colour");
        for (BufferedImage img : out.values()) {
            assertEquals("red", Png.colourAt(img, SIDE / 2 + 30, cy), "the kept half is the same for all");
            assertEquals("white", Png.colourAt(img, SIDE - 20, 20));
        }
        assertFalse(infotext.get(1).contains("Masked content"), infotext.get(1));
        assertTrue(infotext.get(0).contains("Masked content: fill"), infotext.get(0));
        assertTrue(infotext.get(2).contains("Masked content: latent noise"), infotext.get(2));
        assertTrue(infotext.get(3).contains("Masked content: latent nothing"), infotext.get(3));
    }

    /** At a low strength the start decides: the original red survives, zeros leave the prompt free (A1111). */
    @Test
    void atLowStrengthOriginalKeepsTheSquareAndLatentNothingFollowsThePrompt() throws Exception {
        Http.Response original = post(request(1, 0.3));
        Http.Response nothing = post(request(3, 0.3));
        assertEquals(200, original.status(), original.body());
        assertEquals(200, nothing.status(), nothing.body());
        assertEquals("red", Png.colourAt(Png.image(Http.firstImage(original.json())), SIDE / 2 - 30, SIDE / 2));
        assertEquals("blue", Png.colourAt(Png.image(Http.firstImage(nothing.json())), SIDE / 2 - 30, SIDE / 2));
    }

    @Test
    void modesOnTheWrongUnetAreA400NamingTheModel() throws Exception {
        Map<String, Object> img2img = request(null, 0.8);
        img2img.remove("mask");
        Http.Response i = Http.post(sd.baseUrl() + "api/v1/img2img", img2img);
        assertEquals(400, i.status(), i.body());
        assertEquals("model", i.json().path("field").asText(), i.body());
        assertTrue(i.body().contains("inpainting (9-channel)"), i.body());
        Map<String, Object> txt = new LinkedHashMap<>(Map.of("prompt", "a red circle", "model", ToyModel.INPAINT_ID,
                "steps", 4, "width", 64, "height", 64));
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/txt2img", txt);
        assertEquals(400, r.status(), r.body());
        assertEquals("model", r.json().path("field").asText(), r.body());
        // and inpaint serves the ordinary model too, by latent blending
        Map<String, Object> ordinary = request(null, 0.8);
        ordinary.remove("model");
        Http.Response ok = post(ordinary);
        assertEquals(200, ok.status(), ok.body());
    }

    @Test
    void aMaskOfAnotherSizeIsA400NamingTheMask() throws Exception {
        Map<String, Object> req = request(null, 1.0);
        req.put("mask", Base64.getEncoder().encodeToString(png(leftHalf(SIDE / 2))));
        Http.Response r = post(req);
        assertEquals(400, r.status(), r.body());
        assertEquals("mask", r.json().path("field").asText(), r.body());
        assertTrue(r.body().contains("128x128") && r.body().contains("256x256"), r.body());
    }

    @Test
    void webpImagesWorkOverHttp() throws Exception {
        int[] initArgb = new int[SIDE * SIDE];
        int[] maskArgb = new int[SIDE * SIDE];
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                boolean square = x >= SIDE / 4 && x < 3 * SIDE / 4 && y >= SIDE / 4 && y < 3 * SIDE / 4;
                initArgb[y * SIDE + x] = square ? 0xffff0000 : 0xffffffff;
                maskArgb[y * SIDE + x] = x < SIDE / 2 ? 0xffffffff : 0xff000000;
            }
        Map<String, Object> req = request(null, 1.0);
        req.put("init_image", "data:image/webp;base64," + Base64.getEncoder().encodeToString(WebpLossless.encode(SIDE, SIDE, initArgb)));
        req.put("mask", Base64.getEncoder().encodeToString(WebpLossless.encode(SIDE, SIDE, maskArgb)));
        Http.Response r = post(req);
        assertEquals(200, r.status(), r.body());
        BufferedImage in = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        in.setRGB(0, 0, SIDE, SIDE, initArgb, 0, SIDE);
        assertOnlyTheLeftHalfChanged(Png.image(Http.firstImage(r.json())), in);

        req.put("init_image", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(WebpLossless.encode(SIDE, SIDE, initArgb), 30)));
        Http.Response bad = post(req);
        assertEquals(400, bad.status(), bad.body());
        assertEquals("init_image", bad.json().path("field").asText(), bad.body());
        assertTrue(bad.body().contains("WebP"), bad.body());
    }

    private static int green(BufferedImage img, int x, int y) {
        return (img.getRGB(x, y) >> 8) & 0xff;
    }

    /** Standard deviation of the red channel over a rectangle. */
    private static double std(BufferedImage img, int x0, int y0, int x1, int y1) {
        double s = 0, s2 = 0;
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                int v = (img.getRGB(x, y) >> 16) & 0xff;
                s += v;
                s2 += (double) v * v;
                n++;
            }
        double mean = s / n;
        return Math.sqrt(Math.max(0, s2 / n - mean * mean));
    }
}
