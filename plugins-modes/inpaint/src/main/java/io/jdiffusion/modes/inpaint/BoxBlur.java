package io.jdiffusion.modes.inpaint;

/**
 * Gaussian blur as three box blurs (as PIL's {@code GaussianBlur} computes it), in time independent of the
 * radius: A1111's fill blurs at radius 256, where a direct kernel would cost seconds.
 */
final class BoxBlur {
    private BoxBlur() {
    }

    /** Blur with standard deviation {@code sigma} pixels, edges extended; 0 returns a copy. */
    static float[] gaussian(float[] m, int width, int height, double sigma) {
        if (sigma <= 0) {
            return m.clone();
        }
        // three passes of a box of 2r + 1 have variance 3 ((2r + 1)^2 - 1) / 12 = sigma^2
        int r = Math.max(1, (int) Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
        float[] a = m.clone();
        float[] b = new float[m.length];
        for (int pass = 0; pass < 3; pass++) {
            horizontal(a, b, width, height, r);
            vertical(b, a, width, height, r);
        }
        return a;
    }

    private static void horizontal(float[] in, float[] out, int w, int h, int r) {
        float norm = 1f / (2 * r + 1);
        for (int y = 0; y < h; y++) {
            int row = y * w;
            double sum = 0;
            for (int i = -r; i <= r; i++) sum += in[row + clamp(i, w)];
            for (int x = 0; x < w; x++) {
                out[row + x] = (float) (sum * norm);
                sum += in[row + clamp(x + r + 1, w)] - in[row + clamp(x - r, w)];
            }
        }
    }

    private static void vertical(float[] in, float[] out, int w, int h, int r) {
        float norm = 1f / (2 * r + 1);
        for (int x = 0; x < w; x++) {
            double sum = 0;
            for (int i = -r; i <= r; i++) sum += in[clamp(i, h) * w + x];
            for (int y = 0; y < h; y++) {
                out[y * w + x] = (float) (sum * norm);
                sum += in[clamp(y + r + 1, h) * w + x] - in[clamp(y - r, h) * w + x];
            }
        }
    }

    private static int clamp(int i, int n) {
        return i < 0 ? 0 : (i >= n ? n - 1 : i);
    }
}
