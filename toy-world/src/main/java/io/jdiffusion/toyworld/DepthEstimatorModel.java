package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The toy depth estimator, in the place and with the interface of stabilityai/stable-diffusion-2-depth's
 * {@code depth_estimator} (a DPTForDepthEstimation, exported to ONNX: {@code pixel_values [B,3,H,W]} normalised
 * as {@code feature_extractor/preprocessor_config.json} says, to {@code predicted_depth [B,H,W]}, relative
 * inverse depth: larger = nearer).
 * <p>
 * The toy world has one object in front of a flat background, so "near" is "unlike the border":
 * depth = {@link #SCALE} x the Euclidean distance of each pixel's (normalised) colour from the mean colour of the
 * image's outermost rows and columns. Scale and offset do not matter to the depth pipeline, which normalises each
 * map to [-1, 1]; MiDaS outputs are in the hundreds too.
 */
final class DepthEstimatorModel {
    /** DPT's input side (DPT-Hybrid MiDaS, as SD 2 depth ships it). */
    static final int SIDE = 384;
    /** Output scale, so the values look like MiDaS's (hundreds), not like a probability. */
    static final float SCALE = 100f;

    private DepthEstimatorModel() {
    }

    static ModelProto build() {
        Graph g = new Graph("toy_depth_estimator");
        String x = g.input("pixel_values", Graph.FLOAT, "batch", 3, "height", "width");
        String shape = g.op1("Shape", x);
        String hf = g.castFloat(g.op2("Gather", shape, g.longScalar(2), "axis", 0));
        String wf = g.castFloat(g.op2("Gather", shape, g.longScalar(3), "axis", 0));
        // mean colour of the frame: the first and last row, the first and last column (each averaged on its own)
        String top = g.div(g.reduceSum(g.slice(x, 0, 1, 2), true, 2, 3), wf);
        String bottom = g.div(g.reduceSum(g.slice(x, -1, Long.MAX_VALUE, 2), true, 2, 3), wf);
        String left = g.div(g.reduceSum(g.slice(x, 0, 1, 3), true, 2, 3), hf);
        String right = g.div(g.reduceSum(g.slice(x, -1, Long.MAX_VALUE, 3), true, 2, 3), hf);
        String border = g.mul(g.add(g.add(top, bottom), g.add(left, right)), g.scalar(0.25f));   // [B,3,1,1]
        String diff = g.sub(x, border);
        String dist = g.sqrt(g.reduceSum(g.mul(diff, diff), false, 1));                          // [B,H,W]
        g.opNamed("Mul", "predicted_depth", new String[] {dist, g.scalar(SCALE)});
        g.output("predicted_depth", Graph.FLOAT, "batch", "height", "width");
        return g.model("toy-world depth estimator " + ToyWorld.VERSION
                + ": distance from the border colour (near = large), as DPT's predicted_depth");
    }

    /** depth_estimator/config.json: a DPTForDepthEstimation config (DPT-Hybrid, as SD 2 depth's). */
    static Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_name_or_path", "jdiffusion/toy-world-depth");
        m.put("architectures", List.of("DPTForDepthEstimation"));
        m.put("model_type", "dpt");
        m.put("image_size", SIDE);
        m.put("num_channels", 3);
        m.put("is_hybrid", true);
        m.put("hidden_size", 768);
        m.put("num_hidden_layers", 12);
        m.put("num_attention_heads", 12);
        m.put("patch_size", 16);
        m.put("torch_dtype", "float32");
        Map<String, Object> toy = new LinkedHashMap<>();
        toy.put("version", ToyWorld.VERSION);
        toy.put("depth", "scale x distance of each pixel's colour from the mean border colour; near = large");
        toy.put("scale", SCALE);
        m.put("toy_world", toy);
        return m;
    }

    /**
     * feature_extractor/preprocessor_config.json as a DPTImageProcessor reads it: resize to 384 x 384 (no aspect
     * ratio kept), bicubic, rescale by 1/255, normalise with mean 0.5 and std 0.5 (to [-1, 1]).
     */
    static Map<String, Object> preprocessorConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("do_normalize", true);
        m.put("do_pad", false);
        m.put("do_rescale", true);
        m.put("do_resize", true);
        m.put("ensure_multiple_of", 1);
        m.put("feature_extractor_type", "DPTFeatureExtractor");
        m.put("image_mean", List.of(new BigDecimal("0.5"), new BigDecimal("0.5"), new BigDecimal("0.5")));
        m.put("image_processor_type", "DPTImageProcessor");
        m.put("image_std", List.of(new BigDecimal("0.5"), new BigDecimal("0.5"), new BigDecimal("0.5")));
        m.put("keep_aspect_ratio", false);
        m.put("resample", 3);
        m.put("rescale_factor", new BigDecimal("0.00392156862745098"));
        Map<String, Object> size = new LinkedHashMap<>();
        size.put("height", SIDE);
        size.put("width", SIDE);
        m.put("size", size);
        return m;
    }
}
