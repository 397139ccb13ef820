package io.jdiffusion.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    private static byte[] file(String format) throws IOException {
        BufferedImage img = new BufferedImage(16, 8, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(255, 0, 0));
        g.fillRect(0, 0, 8, 8);
        g.setColor(new Color(0, 0, 255));
        g.fillRect(8, 0, 8, 8);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    @Test
    void pngAndJpegAsBase64OrDataUrl() throws IOException {
        String png = Base64.getEncoder().encodeToString(file("png"));
        for (String text : new String[] {png, "data:image/png;base64," + png}) {
            RgbImage img = ImageDecoder.decode("init_image", text);
            assertEquals(16, img.width());
            assertEquals(8, img.height());
            assertEquals(1f, img.get(0, 2, 4), 0f);
            assertEquals(1f, img.get(2, 12, 4), 0f);
            assertEquals(0f, img.get(1, 12, 4), 0f);
        }
        RgbImage jpeg = ImageDecoder.decode("init_image", "data:image/jpeg;base64,"
                + Base64.getEncoder().encodeToString(file("jpg")));
        assertEquals(1f, jpeg.get(0, 2, 4), 0.1f);
        assertEquals(1f, jpeg.get(2, 13, 4), 0.1f);
    }

    @Test
    void badValuesNameTheField() {
        String[][] cases = {
            {Base64.getEncoder().encodeToString("hello, not an image".getBytes(StandardCharsets.UTF_8)), "not an image"},
            {"%%% not base64 %%%", "base64"},
            {"", "empty"},
            {"data:image/png,abc", "base64"},
            {Base64.getEncoder().encodeToString("RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1)), "readable WebP"},
        };
        for (String[] c : cases) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> ImageDecoder.decode("mask", c[0]));
            assertEquals("mask", e.field());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> ImageDecoder.decode("init_image", 42));
        assertTrue(e.getMessage().contains("a number"), e.getMessage());
    }

    @Test
    void aHugeImageIsRefusedFromItsHeader() throws IOException {
        // a valid PNG header claiming 5000 x 5000 pixels, then a broken body: refused for its size, not decoded
        byte[] png = file("png");
        java.nio.ByteBuffer.wrap(png).putInt(16, 5000).putInt(20, 5000);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ImageDecoder.decode("init_image", Base64.getEncoder().encodeToString(png)));
        assertTrue(e.getMessage().contains("5000x5000"), e.getMessage());
    }

    @Test
    void inputsAreDecodedAndFittedToTheRequestSize() throws IOException {
        String png = Base64.getEncoder().encodeToString(file("png"));
        Map<String, Object> out = ImageInputs.prepare(Map.of("init_image", png, "strength", 0.5, "resize_mode", 1),
                Set.of("init_image", "mask"), 64, 64);
        RgbImage img = (RgbImage) out.get("init_image");
        assertEquals(64, img.width());
        assertEquals(64, img.height());
        assertEquals(0.5, out.get("strength"));
        assertTrue(!out.containsKey("mask"));
    }

    @Test
    void aMaskOfAnotherSizeThanItsImageIsRefusedBeforeFitting() throws IOException {
        String png = Base64.getEncoder().encodeToString(file("png")); // 16 x 8
        BufferedImage square = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(square, "png", b);
        String mask = Base64.getEncoder().encodeToString(b.toByteArray());
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> ImageInputs.prepare(
                Map.of("init_image", png, "mask", mask), Set.of("init_image", "mask"), Map.of("mask", "init_image"), 64, 64));
        assertEquals("mask", e.field());
        assertTrue(e.getMessage().contains("8x8") && e.getMessage().contains("16x8"), e.getMessage());
        // the same size passes, and both come back fitted
        Map<String, Object> ok = ImageInputs.prepare(Map.of("init_image", png, "mask", png), Set.of("init_image", "mask"),
                Map.of("mask", "init_image"), 64, 32);
        assertEquals(64, ((RgbImage) ok.get("mask")).width());
    }

    @Test
    void losslessWebpIsDecodedExactly() {
        int w = 13, h = 7; // odd sizes: no byte alignment to hide behind
        int[] argb = new int[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                argb[y * w + x] = x < 5 ? 0xffff0000 : (y < 3 ? 0xff0000ff : 0xffffffff);
        byte[] webp = WebpLossless.encode(w, h, argb);
        assertTrue(ImageDecoder.isWebp(webp));
        RgbImage img = ImageDecoder.decode("init_image", "data:image/webp;base64," + Base64.getEncoder().encodeToString(webp));
        assertEquals(w, img.width());
        assertEquals(h, img.height());
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) {
                    int want = (argb[y * w + x] >> (16 - 8 * c)) & 0xff;
                    assertEquals(want / 255f, img.get(c, x, y), 0f, "channel " + c + " at " + x + "," + y);
                }
    }

    @Test
    void lossyWebpFromARealEncoderMatchesItsPng() throws IOException {
        byte[] webp = resource("python.webp");
        BufferedImage png = ImageIO.read(new java.io.ByteArrayInputStream(resource("python.png")));
        RgbImage img = ImageDecoder.decode("init_image", Base64.getEncoder().encodeToString(webp));
        assertEquals(png.getWidth(), img.width());
        assertEquals(png.getHeight(), img.height());
        double err = 0;
        int opaque = 0;
        for (int y = 0; y < img.height(); y++)
            for (int x = 0; x < img.width(); x++) {
                int p = png.getRGB(x, y);
                if ((p >>> 24) != 0xff) continue; // transparent pixels' colours are the encoders' business
                opaque++;
                for (int c = 0; c < 3; c++) err += Math.abs(((p >> (16 - 8 * c)) & 0xff) / 255.0 - img.get(c, x, y));
            }
        assertTrue(opaque > 50, "opaque pixels: " + opaque);
        double mean = err / (3 * opaque);
        assertTrue(mean < 0.08, "mean abs difference from the PNG: " + mean);
        assertTrue(mean > 0, "lossy: not bit-identical, so it really was the WebP that was decoded");
    }

    @Test
    void aBrokenWebpIsRefusedNamingTheField() {
        byte[] good = WebpLossless.encode(4, 4, new int[16]);
        byte[] cut = java.util.Arrays.copyOf(good, 22); // header intact, bitstream gone
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ImageDecoder.decode("init_image", Base64.getEncoder().encodeToString(cut)));
        assertEquals("init_image", e.field());
        assertTrue(e.getMessage().contains("WebP"), e.getMessage());
    }

    private static byte[] resource(String name) throws IOException {
        try (var in = ImageDecoderTest.class.getResourceAsStream("/webp/" + name + ".b64")) {
            return Base64.getMimeDecoder().decode(in.readAllBytes());
        }
    }
}
