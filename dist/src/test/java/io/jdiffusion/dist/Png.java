package io.jdiffusion.dist;

import io.jdiffusion.toyworld.World;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/** Reading the PNGs the server returns: pixels as toy-world colour names, and the text chunks. */
public final class Png {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10};

    private Png() {
    }

    public static BufferedImage image(byte[] png) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            if (img == null) throw new IllegalArgumentException("not an image ImageIO can read");
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The toy-world colour nearest to the mean of the 5x5 pixels around (x, y). */
    public static String colourAt(BufferedImage img, int x, int y) {
        long r = 0, g = 0, b = 0;
        int n = 0;
        for (int dy = -2; dy <= 2; dy++) {
            for (int dx = -2; dx <= 2; dx++) {
                int px = Math.min(img.getWidth() - 1, Math.max(0, x + dx));
                int py = Math.min(img.getHeight() - 1, Math.max(0, y + dy));
                int rgb = img.getRGB(px, py);
                r += (rgb >> 16) & 0xff;
                g += (rgb >> 8) & 0xff;
                b += rgb & 0xff;
                n++;
            }
        }
        return World.nearestColour((int) (r / n), (int) (g / n), (int) (b / n));
    }

    public static String centre(BufferedImage img) {
        return colourAt(img, img.getWidth() / 2, img.getHeight() / 2);
    }

    /** The colours of the four corners (8 pixels in), top-left, top-right, bottom-left, bottom-right. */
    public static String[] corners(BufferedImage img) {
        int w = img.getWidth() - 1, h = img.getHeight() - 1, m = 8;
        return new String[] {colourAt(img, m, m), colourAt(img, w - m, m), colourAt(img, m, h - m), colourAt(img, w - m, h - m)};
    }

    /** The {@code tEXt} chunks (keyword to text, Latin-1) and uncompressed {@code iTXt} chunks (UTF-8). */
    public static Map<String, String> textChunks(byte[] png) {
        if (png.length < 8 || !Arrays.equals(Arrays.copyOf(png, 8), SIGNATURE)) throw new IllegalArgumentException("not a PNG");
        Map<String, String> out = new LinkedHashMap<>();
        ByteBuffer buf = ByteBuffer.wrap(png, 8, png.length - 8);
        while (buf.remaining() >= 12) {
            int len = buf.getInt();
            byte[] type = new byte[4];
            buf.get(type);
            byte[] data = new byte[len];
            buf.get(data);
            buf.getInt(); // CRC
            String t = new String(type, StandardCharsets.US_ASCII);
            int nul = indexOf(data, 0, (byte) 0);
            if (t.equals("tEXt") && nul > 0) {
                out.put(new String(data, 0, nul, StandardCharsets.ISO_8859_1),
                        new String(data, nul + 1, data.length - nul - 1, StandardCharsets.ISO_8859_1));
            } else if (t.equals("iTXt") && nul > 0 && data[nul + 1] == 0) {
                // keyword NUL compression-flag compression-method language NUL translated-keyword NUL text
                int lang = indexOf(data, nul + 3, (byte) 0);
                int tk = lang < 0 ? -1 : indexOf(data, lang + 1, (byte) 0);
                if (tk >= 0) {
                    out.put(new String(data, 0, nul, StandardCharsets.ISO_8859_1),
                            new String(data, tk + 1, data.length - tk - 1, StandardCharsets.UTF_8));
                }
            }
            if (t.equals("IEND")) break;
        }
        return out;
    }

    private static int indexOf(byte[] a, int from, byte v) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == v) return i;
        }
        return -1;
    }
}
