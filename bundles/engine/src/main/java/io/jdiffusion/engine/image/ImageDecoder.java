package io.jdiffusion.engine.image;

import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Request images: base64 text (a {@code data:image/...;base64,} prefix allowed) to an
 * {@link RgbImage}. PNG and JPEG are read by the JDK's ImageIO; WebP (lossy VP8, lossless VP8L,
 * extended VP8X) by TwelveMonkeys' pure-Java reader, which the host exports to this bundle. Its
 * reader is created directly: ImageIO's service lookup runs in the JDK's class loader context and
 * does not see readers of other bundles. Alpha is dropped, as PIL's {@code convert("RGB")} does.
 */
public final class ImageDecoder {
    /** Large enough for 2048 x 2048 PNGs, small enough that a broken client cannot exhaust memory. */
    static final int MAX_PIXELS = 4096 * 4096;

    private ImageDecoder() {
    }

    /** A request value: must be a string of base64 image bytes. */
    public static RgbImage decode(String field, Object value) {
        if (!(value instanceof String text)) {
            throw new InvalidRequestException(field, "must be a base64 PNG, JPEG or WebP image (a data: URL is fine), got "
                    + (value == null ? "nothing" : "a " + kind(value)));
        }
        return decode(field, base64(field, text));
    }

    static byte[] base64(String field, String text) {
        String s = text.strip();
        if (s.startsWith("data:")) {
            int comma = s.indexOf(',');
            if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) {
                throw new InvalidRequestException(field, "a data: URL must be base64, like data:image/png;base64,...");
            }
            s = s.substring(comma + 1);
        }
        if (s.isEmpty()) {
            throw new InvalidRequestException(field, "is empty; send a base64 PNG, JPEG or WebP image");
        }
        try {
            return Base64.getMimeDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, "is not valid base64: " + e.getMessage());
        }
    }

    /** Image file bytes (PNG, JPEG, WebP) to RGB in [0, 1]. */
    public static RgbImage decode(String field, byte[] bytes) {
        BufferedImage img = read(field, bytes);
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] rgb = new float[3 * w * h];
        int plane = w * h;
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            rgb[i] = ((p >> 16) & 0xff) / 255f;
            rgb[plane + i] = ((p >> 8) & 0xff) / 255f;
            rgb[2 * plane + i] = (p & 0xff) / 255f;
        }
        return new RgbImage(w, h, rgb);
    }

    /** Reads the size from the header first, so a tiny file that claims a huge image is refused before decoding. */
    private static BufferedImage read(String field, byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader;
            if (isWebp(bytes)) {
                reader = new WebPImageReaderSpi().createReaderInstance(null);
            } else {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
                if (!readers.hasNext()) {
                    throw new InvalidRequestException(field, "is not an image (expected PNG, JPEG or WebP bytes, "
                            + "base64-encoded)");
                }
                reader = readers.next();
            }
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w * h > MAX_PIXELS) {
                    throw new InvalidRequestException(field, "is " + w + "x" + h + "; at most " + MAX_PIXELS + " pixels");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidRequestException i) {
                throw i;
            }
            throw new InvalidRequestException(field, "is not a readable " + (isWebp(bytes) ? "WebP " : "")
                    + "image: " + e.getMessage());
        }
    }

    static boolean isWebp(byte[] b) {
        return b.length >= 12 && new String(b, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")
                && new String(b, 8, 4, StandardCharsets.ISO_8859_1).equals("WEBP");
    }

    private static String kind(Object v) {
        if (v instanceof Number) return "number";
        if (v instanceof Boolean) return "boolean";
        if (v instanceof java.util.List) return "list";
        if (v instanceof java.util.Map) return "object";
        return v.getClass().getSimpleName();
    }
}
