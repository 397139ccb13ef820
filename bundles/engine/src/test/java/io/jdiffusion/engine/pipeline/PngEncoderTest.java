package io.jdiffusion.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

class PngEncoderTest {
    private static float[] gradient(int w, int h) {
        float[] rgb = new float[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                rgb[y * w + x] = x / (float) (w - 1);
                rgb[w * h + y * w + x] = y / (float) (h - 1);
                rgb[2 * w * h + y * w + x] = 0.5f;
            }
        }
        return rgb;
    }

    @Test
    void pixelsAndParametersSurviveAStandardDecoder() throws Exception {
        int w = 64;
        int h = 32;
        String text = "a red circle\nNegative prompt: blur\nSteps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 1, Size: 64x32";
        byte[] png = PngEncoder.encode(gradient(w, h), w, h, text);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(w, img.getWidth());
        assertEquals(h, img.getHeight());
        int rgb = img.getRGB(63, 31);
        assertEquals(255, (rgb >> 16) & 0xff);
        assertEquals(255, (rgb >> 8) & 0xff);
        assertEquals(128, rgb & 0xff); // 0.5 * 255 = 127.5 rounds up
        assertEquals(text, readText(png, "tEXtEntry"));
    }

    @Test
    void nonLatinPromptsGoToAnInternationalTextChunk() throws Exception {
        String text = "東京の赤い円 🔴\nSteps: 1";
        byte[] png = PngEncoder.encode(gradient(8, 8), 8, 8, text);
        assertEquals(text, readText(png, "iTXtEntry"));
    }

    @Test
    void sameInputSameBytes() {
        assertArrayEquals(PngEncoder.encode(gradient(16, 16), 16, 16, "x"), PngEncoder.encode(gradient(16, 16), 16, 16, "x"));
    }

    private static String readText(byte[] png, String entry) throws Exception {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            ImageReader r = readers.next();
            r.setInput(in);
            IIOMetadata meta = r.getImageMetadata(0);
            Node root = meta.getAsTree("javax_imageio_png_1.0");
            return find(root, entry);
        }
    }

    private static String find(Node n, String entry) {
        if (n.getNodeName().equals(entry)) {
            NamedNodeMap a = n.getAttributes();
            if ("parameters".equals(a.getNamedItem("keyword").getNodeValue())) {
                Node v = a.getNamedItem(entry.equals("iTXtEntry") ? "text" : "value");
                return v.getNodeValue();
            }
        }
        for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
            String s = find(c, entry);
            if (s != null) {
                return s;
            }
        }
        return null;
    }
}
