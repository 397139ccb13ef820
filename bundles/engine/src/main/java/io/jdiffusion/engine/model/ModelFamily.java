package io.jdiffusion.engine.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a model folder holds, told from its files and never from its name: the family (sd1, sd2,
 * sdxl or custom), the variant (txt2img, depth, inpaint), its native resolution and dtype.
 * Listing reads only the diffusers config.json files, so no multi-GB UNet loads just to list;
 * the graphs' declared inputs fill in what the configs lack once the model is loaded anyway.
 *
 * @param family     sd1 (cross_attention_dim 768), sd2 (1024), sdxl (2048 or text-time embeddings), custom, or unknown
 * @param variant    txt2img (4 UNet input channels), depth (5), inpaint (9), or unknown
 * @param prediction the scheduler's prediction_type (epsilon, v_prediction, ...)
 * @param dtype      float32 / float16, or "unknown until loaded"
 */
public record ModelFamily(String family, String variant, String prediction, int width, int height, String dtype) {
    public static final String UNKNOWN_DTYPE = "unknown until loaded";

    /** From the folder's config.json files alone (nothing is loaded). */
    public static ModelFamily detect(ModelFolder folder) {
        Map<String, Object> unet = folder.readJsonIfPresent("unet/config.json");
        // the UNet graph's declared inputs (read without a session) fill in what the configs lack
        OnnxGraphInputs graph = folder.unetGraph();
        boolean xl = "text_time".equals(unet.get("addition_embed_type"))
                || java.nio.file.Files.isDirectory(folder.dir().resolve("text_encoder_2"))
                || graph != null && graph.inputs().containsKey("text_embeds") && graph.inputs().containsKey("time_ids");
        Integer width = integer(unet.get("cross_attention_dim"));
        if (width == null && graph != null && graph.inputs().containsKey("encoder_hidden_states")) {
            long w = graph.inputs().get("encoder_hidden_states").dim(2);
            width = w > 0 ? (int) w : null;
        }
        if (width == null) { // an Optimum export may lack the UNet config; the text encoder's says the same width
            width = integer(folder.readJsonIfPresent("text_encoder/config.json").get("hidden_size"));
        }
        Integer inChannels = integer(unet.get("in_channels"));
        if (inChannels == null && graph != null && graph.inputs().containsKey("sample")) {
            long c = graph.inputs().get("sample").dim(1);
            inChannels = c > 0 ? (int) c : null;
        }
        String prediction = String.valueOf(folder.readJsonIfPresent("scheduler/scheduler_config.json")
                .getOrDefault("prediction_type", "epsilon"));
        int side = folder.unetSampleSize() * folder.vaeFactor();
        String dtype = graphDtype(graph);
        return new ModelFamily(family(width, xl), variant(inChannels), prediction, side, side,
                dtype != null ? dtype : configDtype(folder));
    }

    /** float16 / float32 from the UNet's declared {@code sample} type: what the session will take, unlike torch_dtype. */
    private static String graphDtype(OnnxGraphInputs graph) {
        OnnxGraphInputs.Value sample = graph == null ? null : graph.inputs().get("sample");
        if (sample == null) {
            return null;
        }
        return switch (sample.elemType()) {
            case OnnxGraphInputs.FLOAT16 -> "float16";
            case OnnxGraphInputs.FLOAT -> "float32";
            default -> null;
        };
    }

    /** As {@link #detect(ModelFolder)}, with the loaded graphs' declared inputs filling what configs lack. */
    public static ModelFamily detect(OnnxModel loaded) {
        ModelFamily f = detect(loaded.folder());
        String family = "unknown".equals(f.family) ? family(loaded.hiddenWidth(), false) : f.family;
        String variant = "unknown".equals(f.variant) ? variant(loaded.latentChannels() + loaded.unetExtraChannels()) : f.variant;
        return new ModelFamily(family, variant, f.prediction, f.width, f.height, loaded.unetDtype());
    }

    static String family(Integer crossAttentionDim, boolean xl) {
        if (xl) {
            return "sdxl";
        }
        if (crossAttentionDim == null) {
            return "unknown";
        }
        return switch (crossAttentionDim) {
            case 768 -> "sd1";
            case 1024 -> "sd2";
            case 2048 -> "sdxl";
            default -> "custom";
        };
    }

    static String variant(Integer inChannels) {
        if (inChannels == null) {
            return "unknown";
        }
        return switch (inChannels) {
            case 4 -> "txt2img";
            case 5 -> "depth";
            case 9 -> "inpaint";
            default -> "custom";
        };
    }

    private static String configDtype(ModelFolder folder) {
        for (String cfg : new String[] {"unet/config.json", "text_encoder/config.json"}) {
            Object d = folder.readJsonIfPresent(cfg).get("torch_dtype");
            if (d != null) {
                return d.toString();
            }
        }
        return UNKNOWN_DTYPE;
    }

    private static Integer integer(Object o) {
        return o instanceof Number n ? n.intValue() : null;
    }

    /** The fields {@code GET /api/v1/models} shows. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", family);
        m.put("variant", variant);
        m.put("prediction_type", prediction);
        m.put("width", width);
        m.put("height", height);
        m.put("dtype", dtype);
        return m;
    }
}
