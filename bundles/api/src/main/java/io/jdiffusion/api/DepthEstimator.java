package io.jdiffusion.api;

/**
 * Estimates a depth map from an image (since 1.4), as MiDaS / DPT do for Stable Diffusion 2 depth: relative
 * inverse depth, larger = nearer, at the estimator's own resolution. The depth mode resizes and normalises the
 * map itself, so an estimator need not care about scale or offset.
 *
 * <p>The engine offers the model folder's {@code depth_estimator} (an ONNX DPT, preprocessed as the folder's
 * {@code feature_extractor/preprocessor_config.json} says) through
 * {@link GenerationMode.ModeContext#depthEstimator()}, or else a service of this type that a plugin registers
 * with {@link Plugin#NAME} and {@link Plugin#LABEL}.
 */
public interface DepthEstimator {
    /**
     * @param image the input image, any size
     * @return its depth map; may be smaller or larger than the image (DPT: 384 x 384)
     */
    DepthMap estimate(RgbImage image);

    /**
     * A depth map: relative inverse depth (larger = nearer), row by row.
     *
     * @param values {@code height x width} values
     */
    record DepthMap(int width, int height, float[] values) {
        public DepthMap {
            if (width < 1 || height < 1) {
                throw new IllegalArgumentException("depth map size must be positive, got " + width + "x" + height);
            }
            if (values == null || values.length != width * height) {
                throw new IllegalArgumentException("expected " + height + " x " + width + " values, got "
                        + (values == null ? "none" : values.length));
            }
        }

        /** The value at pixel {@code (x, y)}. */
        public float get(int x, int y) {
            return values[y * width + x];
        }
    }
}
