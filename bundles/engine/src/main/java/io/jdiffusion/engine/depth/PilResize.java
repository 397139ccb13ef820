package io.jdiffusion.engine.depth;

/**
 * Pillow's {@code Image.resize} on 8-bit images, which transformers' image processors use: a separable
 * convolution whose filter widens with the downscale factor (antialiasing), horizontal pass first, coefficients in
 * 22-bit fixed point and each pass rounded and clipped to 0..255, as {@code libImaging/Resample.c} does. Nearest
 * neighbour picks {@code floor((x + 0.5) * scale)}.
 */
public final class PilResize {
    /** PIL's resampling filter codes, as {@code resample} in a preprocessor config holds them. */
    public static final int NEAREST = 0;
    public static final int LANCZOS = 1;
    public static final int BILINEAR = 2;
    public static final int BICUBIC = 3;
    public static final int BOX = 4;
    public static final int HAMMING = 5;

    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResize() {
    }

    /**
     * @param pixels planar 0..255 values, {@code [channels, inH, inW]}
     * @return {@code [channels, outH, outW]}
     */
    public static int[] resize(int[] pixels, int channels, int inH, int inW, int outH, int outW, int filter) {
        if (filter == NEAREST) {
            return nearest(pixels, channels, inH, inW, outH, outW);
        }
        int[] cur = pixels;
        int w = inW;
        if (outW != inW) {
            cur = pass(cur, channels, inH, inW, outW, filter, true);
            w = outW;
        }
        if (outH != inH) {
            cur = pass(cur, channels, inH, w, outH, filter, false);
        }
        return cur == pixels ? pixels.clone() : cur;
    }

    /** One 1-D pass along x ({@code horizontal}) or y, from {@code inSize} to {@code outSize} samples. */
    private static int[] pass(int[] src, int channels, int h, int w, int outSize, int filter, boolean horizontal) {
        int inSize = horizontal ? w : h;
        double support = support(filter);
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        support *= filterScale;
        int[] bounds = new int[2 * outSize];
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] k = new int[outSize * taps];
        double[] tmp = new double[taps];
        for (int o = 0; o < outSize; o++) {
            double center = (o + 0.5) * scale;
            int min = Math.max((int) (center - support + 0.5), 0);
            int count = Math.min((int) (center + support + 0.5), inSize) - min;
            double sum = 0;
            for (int i = 0; i < count; i++) {
                tmp[i] = filter(filter, (i + min - center + 0.5) / filterScale);
                sum += tmp[i];
            }
            for (int i = 0; i < count; i++) {
                double v = sum != 0 ? tmp[i] / sum : tmp[i];
                k[o * taps + i] = (int) (v * (1 << PRECISION_BITS) + (v < 0 ? -0.5 : 0.5));
            }
            bounds[2 * o] = min;
            bounds[2 * o + 1] = count;
        }
        int outW = horizontal ? outSize : w;
        int outH = horizontal ? h : outSize;
        int[] dst = new int[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            int srcBase = c * h * w;
            int dstBase = c * outH * outW;
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    int o = horizontal ? x : y;
                    int min = bounds[2 * o];
                    int count = bounds[2 * o + 1];
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int i = 0; i < count; i++) {
                        int s = horizontal ? src[srcBase + y * w + min + i] : src[srcBase + (min + i) * w + x];
                        ss += s * k[o * taps + i];
                    }
                    int v = ss >> PRECISION_BITS;
                    dst[dstBase + y * outW + x] = v < 0 ? 0 : Math.min(v, 255);
                }
            }
        }
        return dst;
    }

    private static int[] nearest(int[] src, int channels, int inH, int inW, int outH, int outW) {
        int[] dst = new int[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) {
                int sy = Math.min((int) ((y + 0.5) * inH / outH), inH - 1);
                for (int x = 0; x < outW; x++) {
                    int sx = Math.min((int) ((x + 0.5) * inW / outW), inW - 1);
                    dst[(c * outH + y) * outW + x] = src[(c * inH + sy) * inW + sx];
                }
            }
        }
        return dst;
    }

    private static double support(int filter) {
        return switch (filter) {
            case BOX -> 0.5;
            case BILINEAR, HAMMING -> 1.0;
            case BICUBIC -> 2.0;
            case LANCZOS -> 3.0;
            default -> throw new IllegalArgumentException("unknown PIL resample filter " + filter
                    + "; known: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming");
        };
    }

    private static double filter(int filter, double x) {
        switch (filter) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                x = Math.abs(x);
                return x < 1 ? 1 - x : 0;
            case HAMMING:
                if (x == 0) {
                    return 1;
                }
                if (x <= -1 || x >= 1) {
                    return 0;
                }
                return Math.sin(Math.PI * x) / (Math.PI * x) * (0.54 + 0.46 * Math.cos(Math.PI * x));
            case BICUBIC: { // a = -0.5, as PIL
                double a = -0.5;
                x = Math.abs(x);
                if (x < 1) {
                    return ((a + 2) * x - (a + 3)) * x * x + 1;
                }
                if (x < 2) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0;
            }
            case LANCZOS:
                if (x <= -3 || x >= 3) {
                    return 0;
                }
                return sinc(x) * sinc(x / 3);
            default:
                throw new IllegalArgumentException("unknown PIL resample filter " + filter);
        }
    }

    private static double sinc(double x) {
        if (x == 0) {
            return 1;
        }
        x *= Math.PI;
        return Math.sin(x) / x;
    }
}
