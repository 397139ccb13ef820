package io.jdiffusion.engine.image;

import io.jdiffusion.api.RgbImage;

/**
 * Separable triangle-filter resampling, as PIL's {@code BILINEAR} filter: bilinear when
 * enlarging, and with the filter widened by the scale when shrinking, so a downscale averages
 * every source pixel instead of skipping most of them (no aliasing).
 */
final class Resampler {
    private Resampler() {
    }

    static RgbImage resize(RgbImage src, int width, int height) {
        if (src.width() == width && src.height() == height) {
            return src;
        }
        Weights wx = Weights.of(src.width(), width);
        Weights wy = Weights.of(src.height(), height);
        int sw = src.width();
        int sh = src.height();
        float[] horizontal = new float[3 * sh * width];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < sh; y++) {
                int row = (c * sh + y) * sw;
                for (int x = 0; x < width; x++) {
                    horizontal[(c * sh + y) * width + x] = wx.apply(src.rgb(), row, 1, x);
                }
            }
        }
        float[] out = new float[3 * height * width];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    out[(c * height + y) * width + x] = wy.apply(horizontal, c * sh * width + x, width, y);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    /** For each output index: the first input index and the normalised weights that follow it. */
    private record Weights(int[] first, float[][] weights) {
        static Weights of(int in, int out) {
            double scale = (double) in / out;
            double support = Math.max(scale, 1.0); // triangle of radius 1 source pixel, widened when shrinking
            int[] first = new int[out];
            float[][] weights = new float[out][];
            for (int i = 0; i < out; i++) {
                double centre = (i + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(centre - support));
                int hi = Math.min(in, (int) Math.ceil(centre + support));
                float[] w = new float[hi - lo];
                double sum = 0;
                for (int j = lo; j < hi; j++) {
                    double d = Math.abs((j + 0.5 - centre) / support);
                    double v = d < 1 ? 1 - d : 0;
                    w[j - lo] = (float) v;
                    sum += v;
                }
                if (sum == 0) { // cannot happen for in >= 1, kept for safety: nearest pixel
                    w = new float[] {1f};
                    lo = Math.min(in - 1, (int) centre);
                } else {
                    for (int k = 0; k < w.length; k++) {
                        w[k] = (float) (w[k] / sum);
                    }
                }
                first[i] = lo;
                weights[i] = w;
            }
            return new Weights(first, weights);
        }

        float apply(float[] data, int base, int stride, int i) {
            float[] w = weights[i];
            int at = base + first[i] * stride;
            float acc = 0;
            for (int k = 0; k < w.length; k++) {
                acc += w[k] * data[at + k * stride];
            }
            return acc;
        }
    }
}
