package io.jdiffusion.modes.inpaint;

import io.jdiffusion.api.RgbImage;

/**
 * The inpainting mask, as AUTOMATIC1111 prepares it: grey levels of the mask image (white =
 * repaint), a Gaussian blur of {@code mask_blur} pixels (cv2's {@code GaussianBlur} with A1111's kernel
 * size {@code 2 int(2.5 sigma + 0.5) + 1} and cv2's default reflect-101 border), the overlay mask the
 * result is pasted back with (the blurred mask doubled and clipped), and a latent mask at 1/f
 * resolution: the blurred mask averaged over each f x f block and rounded to 0 or 1 (A1111's
 * {@code np.around(latmask)}).
 */
final class Mask {
    private Mask() {
    }

    /** Luminance in [0, 1] ({@code convert("L")}), {@code [height, width]}. */
    static float[] grey(RgbImage img) {
        int n = img.width() * img.height();
        float[] rgb = img.rgb();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = 0.299f * rgb[i] + 0.587f * rgb[n + i] + 0.114f * rgb[2 * n + i];
        }
        return out;
    }

    /** Separable Gaussian blur with standard deviation {@code sigma} pixels, edges reflected; 0 returns the input. */
    static float[] blur(float[] m, int width, int height, double sigma) {
        if (sigma <= 0) {
            return m.clone();
        }
        int r = (int) (2.5 * sigma + 0.5); // A1111: kernel_size = 2 * int(2.5 * sigma + 0.5) + 1
        float[] k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            double v = Math.exp(-(i * i) / (2 * sigma * sigma));
            k[i + r] = (float) v;
            sum += v;
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= (float) sum;
        }
        float[] tmp = new float[m.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float acc = 0;
                for (int i = -r; i <= r; i++) {
                    int sx = reflect101(x + i, width);
                    acc += k[i + r] * m[y * width + sx];
                }
                tmp[y * width + x] = acc;
            }
        }
        float[] out = new float[m.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float acc = 0;
                for (int i = -r; i <= r; i++) {
                    int sy = reflect101(y + i, height);
                    acc += k[i + r] * tmp[sy * width + x];
                }
                out[y * width + x] = acc;
            }
        }
        return out;
    }

    /** cv2's BORDER_REFLECT_101: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ... */
    static int reflect101(int i, int n) {
        if (n == 1) {
            return 0;
        }
        while (i < 0 || i >= n) {
            i = i < 0 ? -i : 2 * (n - 1) - i;
        }
        return i;
    }

    /** A1111's {@code mask_for_overlay}: the blurred mask doubled and clipped, so its inner half is all result. */
    static float[] overlay(float[] blurred) {
        float[] out = new float[blurred.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.min(1f, 2f * blurred[i]);
        }
        return out;
    }

    /** 1 where the latent is repainted, 0 where it is kept: {@code [h/f, w/f]}. */
    static float[] latent(float[] m, int width, int height, int f) {
        int lw = width / f;
        int lh = height / f;
        float[] out = new float[lw * lh];
        for (int ly = 0; ly < lh; ly++) {
            for (int lx = 0; lx < lw; lx++) {
                double acc = 0;
                for (int y = ly * f; y < (ly + 1) * f; y++) {
                    for (int x = lx * f; x < (lx + 1) * f; x++) {
                        acc += m[y * width + x];
                    }
                }
                out[ly * lw + lx] = acc / (f * f) >= 0.5 ? 1f : 0f;
            }
        }
        return out;
    }
}
