package io.jdiffusion.api;

import java.util.Arrays;

/**
 * diffusers' {@code _threshold_sample} (dynamic thresholding, Imagen), shared by the samplers whose
 * diffusers schedulers offer {@code thresholding}: per image, {@code s = clamp(quantile(|x0|, ratio), 1,
 * sample_max_value)}, then {@code x0 = clamp(x0, -s, s) / s}, in float32 as torch computes it.
 */
public final class DynamicThresholding {
    private final float ratio;
    private final float maxValue;

    public DynamicThresholding(double ratio, double maxValue) {
        this.ratio = (float) ratio;
        this.maxValue = (float) maxValue;
    }

    /**
     * The config's thresholding ({@code thresholding}, {@code dynamic_thresholding_ratio},
     * {@code sample_max_value}), or {@code null} when it is off (diffusers' default).
     */
    public static DynamicThresholding of(SchedulerConfig config) {
        if (!config.getBoolean("thresholding", false)) {
            return null;
        }
        return new DynamicThresholding(config.getDouble("dynamic_thresholding_ratio", 0.995),
                config.getDouble("sample_max_value", 1.0));
    }

    /** Thresholds {@code x0} in place, {@code rows} images of {@code x0.length / rows} values each. */
    public void apply(float[] x0, int rows) {
        int r = rows > 0 && x0.length % rows == 0 ? rows : 1;
        int len = x0.length / r;
        float[] sorted = new float[len];
        for (int row = 0; row < r; row++) {
            int off = row * len;
            for (int j = 0; j < len; j++) {
                sorted[j] = Math.abs(x0[off + j]);
            }
            Arrays.sort(sorted);
            float s = quantile(sorted, ratio);
            s = Math.min(Math.max(s, 1f), maxValue);
            for (int j = 0; j < len; j++) {
                x0[off + j] = clamp(x0[off + j], -s, s) / s;
            }
        }
    }

    /** {@code torch.quantile(x, q)} with linear interpolation on sorted values, in float32. */
    static float quantile(float[] sorted, float q) {
        int len = sorted.length;
        if (Float.isNaN(sorted[len - 1])) {
            return Float.NaN;
        }
        float rank = q * (len - 1);
        int below = (int) rank;
        int above = (int) Math.ceil(rank);
        float weight = rank - below;
        float lo = sorted[below];
        float hi = sorted[above];
        // torch.lerp
        return Math.abs(weight) < 0.5f ? lo + weight * (hi - lo) : hi - (hi - lo) * (1f - weight);
    }

    private static float clamp(float v, float lo, float hi) {
        return v < lo ? lo : (v > hi ? hi : v); // torch.clamp keeps NaN
    }

    /** The batch size of {@code model}'s latents, for per-image operations (1 when unknown). */
    public static int rows(Denoiser model, int length) {
        int[] shape = model == null ? null : model.latentShape();
        if (shape != null && shape.length > 0 && shape[0] > 0 && length % shape[0] == 0) {
            return shape[0];
        }
        return 1;
    }
}
