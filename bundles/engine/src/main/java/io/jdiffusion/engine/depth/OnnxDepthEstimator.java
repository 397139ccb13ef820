package io.jdiffusion.engine.depth;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.jdiffusion.api.DepthEstimator;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.engine.onnx.Inputs;
import java.util.Map;

/**
 * A DPT / MiDaS depth estimator exported to ONNX, as Stable Diffusion 2 depth ships it in a model folder:
 * {@code depth_estimator/model.onnx} takes {@code pixel_values [B,3,H,W]} (prepared as
 * {@code feature_extractor/preprocessor_config.json} says, see {@link DptPreprocessor}) and returns
 * {@code predicted_depth [B,H,W]} (relative inverse depth, near = large). The caller owns the session.
 */
public final class OnnxDepthEstimator implements DepthEstimator {
    public static final String PART = "depth_estimator";
    public static final String PREPROCESSOR_CONFIG = "feature_extractor/preprocessor_config.json";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final DptPreprocessor preprocessor;

    public OnnxDepthEstimator(OrtEnvironment env, OrtSession session, DptPreprocessor preprocessor) {
        this.env = env;
        this.session = session;
        this.preprocessor = preprocessor;
    }

    @Override
    public DepthMap estimate(RgbImage image) {
        int[] size = preprocessor.outputSize(image.height(), image.width());
        float[] pixels = preprocessor.apply(image);
        try (OnnxTensor in = Inputs.floats(env, Inputs.type(session, "pixel_values"), pixels,
                new long[] {1, 3, size[0], size[1]});
             OrtSession.Result r = session.run(Map.of("pixel_values", in))) {
            OnnxTensor out = (OnnxTensor) Inputs.output(r, "predicted_depth");
            long[] shape = out.getInfo().getShape(); // [1,H,W], or [1,1,H,W] from some exports
            int h = (int) shape[shape.length - 2];
            int w = (int) shape[shape.length - 1];
            return new DepthMap(w, h, Inputs.readFloats(out));
        } catch (OrtException e) {
            throw new IllegalStateException("depth estimator failed: " + e.getMessage(), e);
        }
    }
}
