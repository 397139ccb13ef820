package io.jdiffusion.engine.depth;

import io.jdiffusion.api.RgbImage;
import java.util.List;
import java.util.Map;

/**
 * What transformers' {@code DPTImageProcessor} does to an image before a DPT depth estimator sees it, from the
 * settings of a {@code feature_extractor/preprocessor_config.json}: the image as 8-bit RGB, resized with PIL's
 * filter ({@code resample}) to {@code size} (optionally keeping the aspect ratio, a multiple of
 * {@code ensure_multiple_of}), rescaled by {@code rescale_factor} (1/255) and normalised by
 * {@code image_mean}/{@code image_std}. Absent keys take DPTImageProcessor's defaults.
 *
 * @param width  target width before aspect-ratio keeping ({@code size.width})
 * @param height target height ({@code size.height})
 */
public record DptPreprocessor(boolean doResize, int width, int height, boolean keepAspectRatio, int ensureMultipleOf,
                              int resample, boolean doRescale, double rescaleFactor, boolean doNormalize,
                              double[] mean, double[] std) {

    /** From a parsed preprocessor_config.json (an empty map gives DPTImageProcessor's defaults). */
    public static DptPreprocessor fromConfig(Map<String, Object> c) {
        int w = 384;
        int h = 384;
        Object size = c.get("size");
        if (size instanceof Number n) { // the old DPTFeatureExtractor form: one side for both
            w = h = n.intValue();
        } else if (size instanceof Map<?, ?> m) {
            h = intOf(m.get("height"), h);
            w = intOf(m.get("width"), w);
        }
        return new DptPreprocessor(boolOf(c.get("do_resize"), true), w, h, boolOf(c.get("keep_aspect_ratio"), false),
                intOf(c.get("ensure_multiple_of"), 1), intOf(c.get("resample"), PilResize.BICUBIC),
                boolOf(c.get("do_rescale"), true), doubleOf(c.get("rescale_factor"), 1 / 255.0),
                boolOf(c.get("do_normalize"), true), triple(c.get("image_mean")), triple(c.get("image_std")));
    }

    /** The size the image is resized to: DPT's {@code get_resize_output_image_size}, {@code [height, width]}. */
    public int[] outputSize(int inHeight, int inWidth) {
        if (!doResize) {
            return new int[] {inHeight, inWidth};
        }
        double scaleH = (double) height / inHeight;
        double scaleW = (double) width / inWidth;
        if (keepAspectRatio) { // the scale closer to 1 wins, for both sides
            if (Math.abs(1 - scaleW) < Math.abs(1 - scaleH)) {
                scaleH = scaleW;
            } else {
                scaleW = scaleH;
            }
        }
        return new int[] {multipleOf(scaleH * inHeight), multipleOf(scaleW * inWidth)};
    }

    private int multipleOf(double value) {
        int m = Math.max(1, ensureMultipleOf);
        double x = Math.rint(value / m) * m; // Python's round: half to even
        return (int) (x < 0 ? Math.ceil(value / m) * m : x);
    }

    /** {@code pixel_values} of one image, {@code [3, size[0], size[1]]} with {@code size = outputSize(..)}. */
    public float[] apply(RgbImage image) {
        int[] size = outputSize(image.height(), image.width());
        int plane = image.width() * image.height();
        int[] bytes = new int[3 * plane];
        for (int i = 0; i < bytes.length; i++) { // the processor works on 8-bit images, as PIL gives them
            float v = image.rgb()[i] * 255f;
            bytes[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
        int[] resized = doResize
                ? PilResize.resize(bytes, 3, image.height(), image.width(), size[0], size[1], resample)
                : bytes;
        int outPlane = size[0] * size[1];
        float[] out = new float[3 * outPlane];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < outPlane; i++) {
                double v = resized[c * outPlane + i];
                if (doRescale) {
                    v *= rescaleFactor;
                }
                if (doNormalize) {
                    v = (v - mean[c]) / std[c];
                }
                out[c * outPlane + i] = (float) v;
            }
        }
        return out;
    }

    private static double[] triple(Object o) {
        double[] d = {0.5, 0.5, 0.5}; // IMAGENET_STANDARD_MEAN / _STD, DPT's defaults
        if (o instanceof List<?> l && l.size() == 3) {
            for (int i = 0; i < 3; i++) {
                d[i] = ((Number) l.get(i)).doubleValue();
            }
        } else if (o instanceof Number n) {
            d[0] = d[1] = d[2] = n.doubleValue();
        }
        return d;
    }

    private static int intOf(Object o, int dflt) {
        return o instanceof Number n ? n.intValue() : dflt;
    }

    private static double doubleOf(Object o, double dflt) {
        return o instanceof Number n ? n.doubleValue() : dflt;
    }

    private static boolean boolOf(Object o, boolean dflt) {
        return o instanceof Boolean b ? b : dflt;
    }
}
