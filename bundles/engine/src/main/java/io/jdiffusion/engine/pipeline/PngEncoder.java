package io.jdiffusion.engine.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes 8-bit RGB PNGs with the generation parameters in a {@code parameters} text chunk, as
 * AUTOMATIC1111 does (tEXt when the text is Latin-1, iTXt with UTF-8 otherwise, like PIL).
 * Written by hand so the bytes depend only on the pixels and the text: the same request gives
 * the same file on every machine and JDK.
 */
public final class PngEncoder {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PngEncoder() {
    }

    /** {@code rgb} is {@code [3, height, width]} in [0,1], rounded as diffusers' numpy_to_pil does. */
    public static byte[] encode(float[] rgb, int width, int height, String parameters) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(SIGNATURE);
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            writeInt(ihdr, width);
            writeInt(ihdr, height);
            ihdr.write(new byte[] {8, 2, 0, 0, 0}); // 8-bit, truecolour, deflate, no filter method, no interlace
            chunk(out, "IHDR", ihdr.toByteArray());
            if (parameters != null) {
                chunk(out, textChunkType(parameters), textChunk(parameters));
            }
            chunk(out, "IDAT", deflate(scanlines(rgb, width, height)));
            chunk(out, "IEND", new byte[0]);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] scanlines(float[] rgb, int width, int height) {
        int plane = width * height;
        byte[] raw = new byte[height * (1 + 3 * width)];
        int k = 0;
        for (int y = 0; y < height; y++) {
            raw[k++] = 0; // filter: none
            for (int x = 0; x < width; x++) {
                int p = y * width + x;
                for (int c = 0; c < 3; c++) {
                    raw[k++] = (byte) to8bit(rgb[c * plane + p]);
                }
            }
        }
        return raw;
    }

    static int to8bit(float v) {
        float s = v * 255f;
        int r = Math.round(s); // numpy rounds half to even; ties are measure-zero for float pixels
        return r < 0 ? 0 : Math.min(r, 255);
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(6);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 4 + 64);
        byte[] buf = new byte[65536];
        while (!d.finished()) {
            int n = d.deflate(buf);
            out.write(buf, 0, n);
        }
        d.end();
        return out.toByteArray();
    }

    private static String textChunkType(String text) {
        return StandardCharsets.ISO_8859_1.newEncoder().canEncode(text) ? "tEXt" : "iTXt";
    }

    private static byte[] textChunk(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write("parameters".getBytes(StandardCharsets.ISO_8859_1));
        b.write(0);
        if ("tEXt".equals(textChunkType(text))) {
            b.write(text.getBytes(StandardCharsets.ISO_8859_1));
        } else {
            b.write(new byte[] {0, 0, 0, 0}); // uncompressed, method 0, no language tag, no translated keyword
            b.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        writeInt(out, data.length);
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        writeInt(out, (int) crc.getValue());
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }
}
