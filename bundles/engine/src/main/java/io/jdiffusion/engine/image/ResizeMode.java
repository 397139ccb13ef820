package io.jdiffusion.engine.image;

import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.Locale;

/**
 * How an input image is fitted to the requested size, as AUTOMATIC1111's {@code resize_image}:
 * <ul>
 * <li>{@link #JUST_RESIZE} (0): stretch to width x height;</li>
 * <li>{@link #CROP_AND_RESIZE} (1): scale to cover, keeping the aspect ratio, and crop the centre;</li>
 * <li>{@link #RESIZE_AND_FILL} (2): scale to fit inside, keeping the aspect ratio, centre it, and
 * fill the bands by stretching the image's edge pixels.</li>
 * </ul>
 */
public enum ResizeMode {
    JUST_RESIZE, CROP_AND_RESIZE, RESIZE_AND_FILL;

    public static final String FIELD = "resize_mode";

    /** A request value: 0, 1, 2 or a name ({@code just_resize}, {@code "crop and resize"}, ...); null is 0. */
    public static ResizeMode parse(Object value) {
        if (value == null) {
            return JUST_RESIZE;
        }
        if (value instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && d >= 0 && d < values().length) {
                return values()[(int) d];
            }
        } else if (value instanceof String s) {
            String key = s.strip().toUpperCase(Locale.ROOT).replace(' ', '_').replace('-', '_');
            for (ResizeMode m : values()) {
                if (m.name().equals(key) || String.valueOf(m.ordinal()).equals(key)) {
                    return m;
                }
            }
        }
        throw new InvalidRequestException(FIELD, "must be 0 (just_resize), 1 (crop_and_resize) or 2 (resize_and_fill), got '"
                + value + "'");
    }

    /** {@code image} fitted to {@code width x height}. */
    public RgbImage apply(RgbImage image, int width, int height) {
        int iw = image.width();
        int ih = image.height();
        if (this == JUST_RESIZE || (long) iw * height == (long) ih * width) {
            return Resampler.resize(image, width, height);
        }
        boolean wider = (double) width / height > (double) iw / ih; // target is wider than the image
        // crop: cover the target; fill: fit inside it. Sizes as A1111 computes them.
        boolean matchWidth = this == CROP_AND_RESIZE ? wider : !wider;
        int sw = matchWidth ? width : Math.max(1, (int) Math.round((double) iw * height / ih));
        int sh = matchWidth ? Math.max(1, (int) Math.round((double) ih * width / iw)) : height;
        RgbImage scaled = Resampler.resize(image, sw, sh);
        // paste centred: offsets may be negative (crop) or positive (bands, filled from the nearest edge)
        int ox = (width - sw) / 2;
        int oy = (height - sh) / 2;
        float[] out = new float[3 * width * height];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < height; y++) {
                int sy = Math.min(sh - 1, Math.max(0, y - oy));
                for (int x = 0; x < width; x++) {
                    int sx = Math.min(sw - 1, Math.max(0, x - ox));
                    out[(c * height + y) * width + x] = scaled.get(c, sx, sy);
                }
            }
        }
        return new RgbImage(width, height, out);
    }
}
