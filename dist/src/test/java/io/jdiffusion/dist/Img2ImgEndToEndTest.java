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
 * img2img end to end: the real distribution (the io.jdiffusion.mode.img2img bundle in Felix), the toy
 * model's VAE encoder, HTTP on loopback, and {@code sd generate --init-image}.
 */
@Timeout(600)
class Img2ImgEndToEndTest {
    private static SdServer sd;
    private static byte[] redSquare;

    @BeforeAll
    static void start() throws Exception {
        sd = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"));
        redSquare = redSquareOnWhite(512);
    }

    @AfterAll
    static void stop() {
        if (sd != null) sd.close();
    }

    /** A red square on a white background, drawn with java.awt where the toy world draws its square. */
    static byte[] redSquareOnWhite(int side) throws IOException {
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

    /**
     * 256 x 256 output (from the 512 x 512 init image, so the resize runs too): the toy world's prompt
     * prior is a fixed 50 nats per word while the image's evidence for its own colours grows with the pixel
     * count; at 512 x 512 the red square still outweighs the prompt at strength 0.8 (t ~ 790), at 256 x 256
     * it is a quarter of that and the prompt wins clearly. A real model has no such fixed prior.
     */
    private static Map<String, Object> request(double strength) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("prompt", "a blue square on a white background");
        r.put("init_image", "data:image/png;base64," + Base64.getEncoder().encodeToString(redSquare));
        r.put("strength", strength);
        r.put("steps", 20);
        r.put("seed", 1);
        r.put("width", 256);
        r.put("height", 256);
        return r;
    }

    private static JsonNode img2img(Map<String, Object> request) throws Exception {
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/img2img", request);
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    @Test
    void strength08TurnsTheRedSquareBlueAndStrength02KeepsItRed() throws Exception {
        byte[] png = Http.firstImage(img2img(request(0.8)));
        BufferedImage blue = Png.image(png);
        assertEquals(256, blue.getWidth());
        assertEquals("blue", Png.centre(blue));
        assertEquals(List.of("white", "white", "white", "white"), Arrays.asList(Png.corners(blue)));
        String infotext = Png.textChunks(png).get("parameters");
        assertTrue(infotext.contains(", Denoising strength: 0.8"), infotext);
        assertTrue(infotext.contains(", Seed: 1, "), infotext);

        BufferedImage red = Png.image(Http.firstImage(img2img(request(0.2))));
        assertEquals("red", Png.centre(red));
        assertEquals(List.of("white", "white", "white", "white"), Arrays.asList(Png.corners(red)));
    }

    @Test
    void theModeIsListedAndAnImageOfAnotherSizeIsFittedToTheRequest() throws Exception {
        Http.Response modes = Http.get(sd.baseUrl() + "api/v1/modes");
        assertTrue(modes.body().contains("\"img2img\"") && modes.body().contains("strength"), modes.body());
        Map<String, Object> req = request(0.3);
        req.put("init_image", Base64.getEncoder().encodeToString(redSquareOnWhite(200))); // no data: prefix
        req.put("width", 256);
        req.put("height", 384);
        req.put("resize_mode", 1);
        BufferedImage img = Png.image(Http.firstImage(img2img(req)));
        assertEquals(256, img.getWidth());
        assertEquals(384, img.getHeight());
        assertEquals("red", Png.centre(img));
    }

    @Test
    void badInputsGet400NamingTheField() throws Exception {
        Map<String, Map<String, Object>> cases = new LinkedHashMap<>();
        Map<String, Object> notAnImage = request(0.5);
        notAnImage.put("init_image", Base64.getEncoder().encodeToString("not a picture".getBytes()));
        cases.put("init_image", notAnImage);
        cases.put("strength", request(1.5));
        Map<String, Object> resize = request(0.5);
        resize.put("resize_mode", "sideways");
        cases.put("resize_mode", resize);
        for (Map.Entry<String, Map<String, Object>> c : cases.entrySet()) {
            Http.Response r = Http.post(sd.baseUrl() + "api/v1/img2img", c.getValue());
            assertEquals(400, r.status(), r.body());
            assertEquals(c.getKey(), r.json().path("field").asText(), r.body());
            assertTrue(r.json().path("error").asText().contains(c.getKey()), r.body());
        }
        Map<String, Object> missing = request(0.5);
        missing.remove("init_image");
        Http.Response r = Http.post(sd.baseUrl() + "api/v1/img2img", missing);
        assertEquals(400, r.status(), r.body());
        assertEquals("init_image", r.json().path("field").asText(), r.body());
    }

    @Test
    void aMultipartFormWithTheImageAsAFileWorksToo() throws Exception {
        String boundary = "----jdiffusion-e2e";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        StringBuilder fields = new StringBuilder();
        for (String[] f : new String[][] {{"prompt", "a blue square on a white background"}, {"strength", "0.8"},
                {"steps", "20"}, {"seed", "1"}, {"width", "256"}, {"height", "256"}}) {
            fields.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(f[0])
                    .append("\"\r\n\r\n").append(f[1]).append("\r\n");
        }
        fields.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"init_image\"; "
                + "filename=\"red.png\"\r\nContent-Type: image/png\r\n\r\n");
        body.write(fields.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        body.write(redSquare);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(sd.baseUrl() + "api/v1/img2img"))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        BufferedImage img = Png.image(Http.firstImage(Http.JSON.readTree(r.body())));
        assertEquals("blue", Png.centre(img));
        assertEquals(256, img.getWidth());
    }

    @Test
    void generateTakesAnInitImageFile() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-img2img-");
        Path init = dir.resolve("red-square.png");
        Files.write(init, redSquare);
        Path out = dir.resolve("blue.png");
        Path log = dir.resolve("log.txt");
        Process p = SdServer.command(List.of("generate", "--prompt", "a blue square on a white background",
                        "--init-image", init.toString(), "--strength", "0.8", "--steps", "20", "--seed", "1",
                        "--width", "256", "--height", "256",
                        "--model", ToyModel.dir().toString(), "--plugins", dir.resolve("plugins").toString(),
                        "--out", out.toString()), Map.of())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("generate did not finish:\n" + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("\"mode\":\"img2img\""), Files.readString(log));
        assertEquals("blue", Png.centre(Png.image(Files.readAllBytes(out))));
    }
}
