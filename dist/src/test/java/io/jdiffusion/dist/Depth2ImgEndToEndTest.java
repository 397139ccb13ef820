package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jdiffusion.toyworld.World;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
 * depth2img end to end: the real distribution (the io.jdiffusion.mode.depth2img bundle in Felix), the toy depth
 * model (5-channel UNet + ONNX depth estimator in stable-diffusion-2-depth's layout), HTTP on loopback, and
 * {@code sd generate --depth-map}. The output is 256 x 256, the inputs 512 x 512. The new colours need a high
 * strength (0.9): the toy prompt prior is a fixed 50 nats per word, while the init image's evidence for its own
 * background (three quarters of the picture) still outweighs it at 0.8 (t ~ 800); the shape comes from the
 * depth at any strength.
 */
@Timeout(600)
class Depth2ImgEndToEndTest {
    private static final String PROMPT = "a green circle on a black background";
    private static SdServer sd;

    @BeforeAll
    static void start() throws Exception {
        Path models = ToyModel.depthModels();
        sd = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", models.resolve("toy-depth").toString(), "--models-dir", models.toString());
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    /** A shape where the toy world draws it (circle radius 0.6, square half side 0.5 of half the side). */
    static byte[] picture(String shape, String fg, String bg, int side) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        int[] b = World.rgb(bg);
        int[] f = World.rgb(fg);
        g.setColor(new Color(b[0], b[1], b[2]));
        g.fillRect(0, 0, side, side);
        g.setColor(new Color(f[0], f[1], f[2]));
        int half = side / 2;
        if (shape.equals("circle")) {
            int r = (int) Math.round(0.6 * half);
            g.fillOval(half - r, half - r, 2 * r, 2 * r);
        } else {
            g.fillRect(side / 4, side / 4, side / 2, side / 2);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static String base64(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    private static Map<String, Object> request(byte[] init) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "depth2img");
        r.put("prompt", PROMPT);
        r.put("init_image", base64(init));
        r.put("strength", 0.9);
        r.put("steps", 20);
        r.put("seed", 1);
        r.put("width", 256);
        r.put("height", 256);
        return r;
    }

    private static byte[] depth2img(Map<String, Object> request) throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/img2img", request);
        assertEquals(200, r.status(), r.body());
        return Http.firstImage(r.json());
    }

    /** Green inside the circle's radius, black outside it where a square would still be. */
    static void assertGreenCircle(BufferedImage img) {
        assertGreenCircle(img, "black");
    }

    static void assertGreenCircle(BufferedImage img, String bg) {
        assertEquals("green", Png.centre(img));
        assertEquals(List.of(bg, bg, bg, bg), Arrays.asList(Png.corners(img)));
        assertEquals("green", Png.colourAt(img, 128 + 72, 128), "inside the circle's radius (76.8 px)");
        assertEquals("green", Png.colourAt(img, 128, 128 - 72), "inside the circle's radius, above");
        assertEquals(bg, Png.colourAt(img, 128 + 62, 128 + 62), "outside the circle, inside a square");
    }

    /** Green up to the square's corners, black just past its sides. */
    static void assertGreenSquare(BufferedImage img) {
        assertEquals("green", Png.centre(img));
        assertEquals(List.of("black", "black", "black", "black"), Arrays.asList(Png.corners(img)));
        assertEquals("green", Png.colourAt(img, 128 + 58, 128 + 58), "the square's corner (outside a circle)");
        assertEquals("black", Png.colourAt(img, 128 + 74, 128), "right of the square (inside a circle's radius)");
    }

    @Test
    void aCircleKeepsItsShapeAndPositionAndTakesTheNewColours() throws Exception {
        byte[] png = depth2img(request(picture("circle", "red", "white", 512)));
        BufferedImage img = Png.image(png);
        assertEquals(256, img.getWidth());
        assertGreenCircle(img, "black");
        String infotext = Png.textChunks(png).get("parameters");
        assertTrue(infotext.contains(", Denoising strength: 0.9"), infotext);
        assertTrue(infotext.contains(", Depth map: estimated"), infotext);
        assertTrue(infotext.contains(", Model: toy-depth"), infotext);
    }

    /** Without strength: diffusers' default 0.8. The background keeps its colour there, the circle turns green. */
    @Test
    void theDefaultStrengthIs08() throws Exception {
        Map<String, Object> r = request(picture("circle", "red", "white", 512));
        r.remove("strength");
        r.put("prompt", "a green circle on a white background");
        byte[] png = depth2img(r);
        assertGreenCircle(Png.image(png), "white");
        assertTrue(Png.textChunks(png).get("parameters").contains(", Denoising strength: 0.8,"));
    }

    /** The prompt asks for a circle; the square's depth keeps the square (the depth UNet follows the depth). */
    @Test
    void aSquareStaysASquare() throws Exception {
        BufferedImage img = Png.image(depth2img(request(picture("square", "red", "white", 512))));
        assertGreenSquare(img);
    }

    /** The user's depth map (a white circle on black) wins over the init image's square. */
    @Test
    void aUserDepthMapDecidesTheShape() throws Exception {
        Map<String, Object> r = request(picture("square", "red", "white", 512));
        r.put("depth_map", base64(picture("circle", "white", "black", 300))); // another size: fitted first
        r.put("strength", 1.0);
        byte[] png = depth2img(r);
        assertGreenCircle(Png.image(png));
        assertTrue(Png.textChunks(png).get("parameters").contains(", Depth map: user"));
    }

    @Test
    void depth2imgOnAnOrdinaryModelIsA400NamingModel() throws Exception {
        Map<String, Object> r = request(picture("circle", "red", "white", 256));
        r.put("model", "toy");
        Http.Response resp = Http.post(sd.baseUrl() + "api/v1/img2img", r);
        assertEquals(400, resp.status(), resp.body());
        assertEquals("model", resp.json().path("field").asText(), resp.body());
        assertTrue(resp.json().path("error").asText().contains("depth2img"), resp.body());
        // and the other way round: plain img2img cannot use the depth UNet
        Map<String, Object> plain = request(picture("circle", "red", "white", 256));
        plain.remove("mode");
        Http.Response img2img = Http.post(sd.baseUrl() + "api/v1/img2img", plain);
        assertEquals(400, img2img.status(), img2img.body());
        assertEquals("model", img2img.json().path("field").asText(), img2img.body());
    }

    @Test
    void withoutDepthMapOrEstimatorIsA400NamingDepthMap() throws Exception {
        Map<String, Object> r = request(picture("circle", "red", "white", 256));
        r.put("model", "toy-depth-no-estimator");
        Http.Response resp = Http.post(sd.baseUrl() + "api/v1/img2img", r);
        assertEquals(400, resp.status(), resp.body());
        assertEquals("depth_map", resp.json().path("field").asText(), resp.body());
        assertTrue(resp.json().path("error").asText().contains("depth estimator"), resp.body());
        // with a map it works on that model
        r.put("depth_map", base64(picture("circle", "white", "black", 256)));
        assertGreenCircle(Png.image(depth2img(r)));
    }

    @Test
    void badInputsAre400s() throws Exception {
        Map<String, Object> missing = request(picture("circle", "red", "white", 256));
        missing.remove("init_image");
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/img2img", missing);
        assertEquals(400, r.status(), r.body());
        assertEquals("init_image", r.json().path("field").asText(), r.body());
        Map<String, Object> badMap = request(picture("circle", "red", "white", 256));
        badMap.put("depth_map", Base64.getEncoder().encodeToString("no picture".getBytes()));
        r = Http.post(sd.baseUrl() + "api/v1/img2img", badMap);
        assertEquals(400, r.status(), r.body());
        assertEquals("depth_map", r.json().path("field").asText(), r.body());
        Map<String, Object> badMode = request(picture("circle", "red", "white", 256));
        badMode.put("mode", 5);
        r = Http.post(sd.baseUrl() + "api/v1/img2img", badMode);
        assertEquals(400, r.status(), r.body());
        assertEquals("mode", r.json().path("field").asText(), r.body());
    }

    @Test
    void theDepthPreviewShowsTheCircleNearAndTheModeIsListed() throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/depth",
                Map.of("init_image", base64(picture("circle", "red", "white", 512))));
        assertEquals(200, r.status(), r.body());
        BufferedImage depth = Png.image(Base64.getDecoder().decode(r.json().path("image").asText()));
        assertEquals(384, depth.getWidth()); // the estimator's resolution (feature_extractor size)
        // (the brightest pixels are at the circle's edge, where Pillow's bicubic resize overshoots)
        assertTrue((depth.getRGB(192, 192) & 0xff) > 200, "the circle is near: white, " + (depth.getRGB(192, 192) & 0xff));
        assertTrue((depth.getRGB(4, 4) & 0xff) < 20, "the background is far: black, " + (depth.getRGB(4, 4) & 0xff));
        Http.Response none = Http.post(sd.baseUrl() + "api/v1/depth",
                Map.of("init_image", base64(picture("circle", "red", "white", 64)), "model", "toy-depth-no-estimator"));
        assertEquals(400, none.status(), none.body());
        assertEquals("model", none.json().path("field").asText(), none.body());

        Http.Response modes = Http.get(sd.baseUrl() + "api/v1/modes");
        assertTrue(modes.body().contains("\"depth2img\""), modes.body());
        JsonNode models = Http.get(sd.baseUrl() + "api/v1/models").json();
        assertEquals("depth", models.get(0).path("variant").asText(), models.toString());
    }

    /** {@code sd make-toy-model --unet depth} writes the depth model a person can try depth2img on. */
    @Test
    void makeToyModelWritesADepthModel() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "toy-depth-cli-");
        Path out = dir.resolve("model");
        Path log = dir.resolve("log.txt");
        Process p = SdServer.command(List.of("make-toy-model", "--out", out.toString(), "--unet", "depth"), Map.of())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "make-toy-model did not finish");
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(out.resolve("unet/config.json")).contains("\"in_channels\": 5"));
        for (String f : List.of("depth_estimator/model.onnx", "depth_estimator/config.json",
                "feature_extractor/preprocessor_config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        Process bad = SdServer.command(List.of("make-toy-model", "--out", dir.resolve("x").toString(), "--unet", "deep"),
                Map.of()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(bad.waitFor(2, TimeUnit.MINUTES));
        assertEquals(2, bad.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("--unet must be"), Files.readString(log));
    }

    @Test
    void generateTakesADepthMapFile() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-depth2img-");
        Path init = dir.resolve("square.png");
        Files.write(init, picture("square", "red", "white", 512));
        Path depthMap = dir.resolve("circle-depth.png");
        Files.write(depthMap, picture("circle", "white", "black", 512));
        Path out = dir.resolve("out.png");
        Path log = dir.resolve("log.txt");
        Process p = SdServer.command(List.of("generate", "--prompt", PROMPT, "--mode", "depth2img",
                        "--init-image", init.toString(), "--depth-map", depthMap.toString(), "--strength", "0.9",
                        "--steps", "20", "--seed", "1", "--width", "256", "--height", "256",
                        "--model", ToyModel.depthModels().resolve("toy-depth").toString(),
                        "--plugins", dir.resolve("plugins").toString(), "--out", out.toString()), Map.of())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("generate did not finish:\n" + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("\"mode\":\"depth2img\""), Files.readString(log));
        assertGreenCircle(Png.image(Files.readAllBytes(out)));
    }
}
