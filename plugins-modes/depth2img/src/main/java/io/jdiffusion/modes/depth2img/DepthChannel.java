package io.jdiffusion.modes.depth2img;

import io.jdiffusion.api.DepthEstimator.DepthMap;
import io.jdiffusion.api.RgbImage;

/**
 * The depth UNet's extra channel from a depth map, as diffusers' {@code StableDiffusionDepth2ImgPipeline
 * .prepare_depth_map} makes it: resized to the latent size with PyTorch's bicubic interpolation
 * ({@code F.interpolate(mode="bicubic", align_corners=False)}), then normalised per image to [-1, 1] by
 * {@code 2 (d - min) / (max - min) - 1}, so near (large) is +1.
 */
final class DepthChannel {
    /** PyTorch's bicubic convolution coefficient (Keys' a = -0.75). */
    static final double A = -0.75;

    private DepthChannel() {
    }

    /** The extra channel {@code [1, 1, latentH, latentW]} for a depth map. */
    static float[] of(DepthMap depth, int latentH, int latentW) {
        return normalise(bicubic(depth.values(), depth.height(), depth.width(), latentH, latentW));
    }

    /**
     * A user's depth image as a map: the mean of its three channels (a depth PNG is grey; white = near, as MiDaS
     * pictures are drawn).
     */
    static DepthMap fromImage(RgbImage image) {
        int plane = image.width() * image.height();
        float[] v = new float[plane];
        float[] rgb = image.rgb();
        for (int i = 0; i < plane; i++) {
            v[i] = (rgb[i] + rgb[plane + i] + rgb[2 * plane + i]) / 3f;
        }
        return new DepthMap(image.width(), image.height(), v);
    }

    /**
     * {@code 2 (d - min) / (max - min) - 1}. A flat map (max == min; diffusers would divide by zero and draw NaN)
     * says everything is equally far: all 0, the middle of the range.
     */
    static float[] normalise(float[] d) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : d) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float[] out = new float[d.length];
        float range = max - min;
        if (!(range > 0)) {
            return out;
        }
        for (int i = 0; i < d.length; i++) {
            out[i] = 2f * (d[i] - min) / range - 1f;
        }
        return out;
    }

    /**
     * PyTorch's {@code upsample_bicubic2d} with {@code align_corners=False} and no antialiasing: source coordinate
     * {@code (dst + 0.5) * in / out - 0.5}, four taps per axis with a = -0.75, indices clamped to the border.
     */
    static float[] bicubic(float[] src, int inH, int inW, int outH, int outW) {
        float[] out = new float[outH * outW];
        double scaleY = (double) inH / outH;
        double scaleX = (double) inW / outW;
        double[] wy = new double[4];
        double[] wx = new double[4];
        for (int y = 0; y < outH; y++) {
            double sy = (y + 0.5) * scaleY - 0.5;
            int iy = (int) Math.floor(sy);
            weights(sy - iy, wy);
            for (int x = 0; x < outW; x++) {
                double sx = (x + 0.5) * scaleX - 0.5;
                int ix = (int) Math.floor(sx);
                weights(sx - ix, wx);
                double acc = 0;
                for (int j = 0; j < 4; j++) {
                    int yy = clamp(iy - 1 + j, inH);
                    double row = 0;
                    for (int i = 0; i < 4; i++) {
                        row += wx[i] * src[yy * inW + clamp(ix - 1 + i, inW)];
                    }
                    acc += wy[j] * row;
                }
                out[y * outW + x] = (float) acc;
            }
        }
        return out;
    }

    /** Weights of the taps at offsets -1, 0, 1, 2 for fraction {@code t}. */
    private static void weights(double t, double[] w) {
        w[0] = far(t + 1);
        w[1] = near(t);
        w[2] = near(1 - t);
        w[3] = far(2 - t);
    }

    /** |x| <= 1. */
    private static double near(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** 1 < |x| < 2. */
    private static double far(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    private static int clamp(int i, int n) {
        return i < 0 ? 0 : Math.min(i, n - 1);
    }
}
