package io.jdiffusion.engine.depth;

import io.jdiffusion.api.DepthEstimator.DepthMap;
import io.jdiffusion.engine.pipeline.PngEncoder;

/** A depth map as a grey PNG for people to look at: min to black, max (nearest) to white, as MiDaS draws it. */
public final class DepthPreview {
    private DepthPreview() {
    }

    public static byte[] png(DepthMap depth) {
        float[] v = depth.values();
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float f : v) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        float range = max - min;
        int plane = v.length;
        float[] rgb = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            float g = range > 0 ? (v[i] - min) / range : 0.5f; // flat: everything equally far, mid grey
            rgb[i] = rgb[plane + i] = rgb[2 * plane + i] = g;
        }
        return PngEncoder.encode(rgb, depth.width(), depth.height(), null);
    }
}
