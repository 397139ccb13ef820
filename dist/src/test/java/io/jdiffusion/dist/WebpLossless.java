package io.jdiffusion.dist;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * (A copy of sd-engine's test helper: test classes do not cross modules.) Writes real WebP lossless (VP8L) files for tests, following the WebP lossless bitstream specification: no
 * transforms, no colour cache, one prefix-code group of "simple" codes. Each channel may take the values 0 and
 * 255 only (a 1-bit code per channel and pixel), so the 8 colours of the RGB cube's corners; alpha is 255.
 */
public final class WebpLossless {
    private WebpLossless() {
    }

    /** {@code argb}: one int per pixel, row by row, each channel 0x00 or 0xff. */
    public static byte[] encode(int width, int height, int[] argb) {
        Bits b = new Bits();
        b.write(0x2f, 8);              // VP8L signature
        b.write(width - 1, 14);
        b.write(height - 1, 14);
        b.write(0, 1);                 // alpha_is_used: no
        b.write(0, 3);                 // version 0
        b.write(0, 1);                 // no transform
        b.write(0, 1);                 // no colour cache
        b.write(0, 1);                 // no meta prefix codes: one group for the whole image
        twoSymbols(b, 0, 255);         // green
        twoSymbols(b, 0, 255);         // red
        twoSymbols(b, 0, 255);         // blue
        oneSymbol(b, 255);             // alpha
        oneSymbol(b, 0);               // distance (unused)
        for (int p : argb) {
            // per pixel: green, red, blue (alpha costs 0 bits); code 0 = the smaller symbol (canonical order)
            b.write(bit(p >> 8), 1);
            b.write(bit(p >> 16), 1);
            b.write(bit(p), 1);
        }
        byte[] vp8l = b.bytes();
        int pad = vp8l.length & 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("RIFF".getBytes(StandardCharsets.ISO_8859_1));
        le32(out, 4 + 8 + vp8l.length + pad);
        out.writeBytes("WEBPVP8L".getBytes(StandardCharsets.ISO_8859_1));
        le32(out, vp8l.length);
        out.writeBytes(vp8l);
        if (pad == 1) out.write(0);
        return out.toByteArray();
    }

    private static int bit(int channel) {
        int v = channel & 0xff;
        if (v != 0 && v != 0xff) throw new IllegalArgumentException("channels must be 0 or 255, got " + v);
        return v == 0 ? 0 : 1;
    }

    /** is_simple 1, num_symbols - 1 = 1, is_first_8bits 1, two 8-bit symbols. */
    private static void twoSymbols(Bits b, int s0, int s1) {
        b.write(1, 1);
        b.write(1, 1);
        b.write(1, 1);
        b.write(s0, 8);
        b.write(s1, 8);
    }

    /** A one-symbol code: the symbol costs no bits. */
    private static void oneSymbol(Bits b, int s) {
        b.write(1, 1);
        b.write(0, 1);
        b.write(1, 1);
        b.write(s, 8);
    }

    private static void le32(ByteArrayOutputStream out, int v) {
        for (int i = 0; i < 4; i++) out.write((v >>> (8 * i)) & 0xff);
    }

    /** LSB-first bit writer, as VP8L's ReadBits reads. */
    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private long acc;
        private int n;

        void write(int value, int bits) {
            acc |= ((long) value & ((1L << bits) - 1)) << n;
            n += bits;
            while (n >= 8) {
                out.write((int) (acc & 0xff));
                acc >>>= 8;
                n -= 8;
            }
        }

        byte[] bytes() {
            if (n > 0) {
                out.write((int) (acc & 0xff));
                acc = 0;
                n = 0;
            }
            return out.toByteArray();
        }
    }
}
