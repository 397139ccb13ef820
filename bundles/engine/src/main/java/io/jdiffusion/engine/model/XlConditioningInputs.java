package io.jdiffusion.engine.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.jdiffusion.api.TextModel;
import java.util.Map;

/**
 * SDXL's added conditioning, as diffusers' StableDiffusionXLPipeline and Optimum's ORTStableDiffusionXLPipeline
 * make it: {@code text_embeds} = text_encoder_2's pooled, projected output, and
 * {@code time_ids} = original size + crop top-left + target size = (H, W, 0, 0, H, W) in pixels.
 */
public final class XlConditioningInputs {
    private XlConditioningInputs() {
    }

    /** An SDXL UNet declares the inputs {@code text_embeds} and {@code time_ids} (addition_embed_type text_time). */
    static boolean isXl(OrtSession unet) throws OrtException {
        Map<String, ?> inputs = unet.getInputInfo();
        return inputs.containsKey("text_embeds") && inputs.containsKey("time_ids");
    }

    /** The text side: text_encoder + tokenizer, its second encoder text_encoder_2 + tokenizer_2. */
    static TextModel textModel(OrtEnvironment env, ModelFolder folder, OrtSession first, OrtSession second)
            throws OrtException {
        return textModel(env, folder, first, second, null, null);
    }

    /**
     * As above, each encoder taking textual-inversion rows through its own {@link TextEncoderVariants} (null: it
     * takes none); the caller owns and closes them.
     */
    static TextModel textModel(OrtEnvironment env, ModelFolder folder, OrtSession first, OrtSession second,
                               TextEncoderVariants firstVariants, TextEncoderVariants secondVariants)
            throws OrtException {
        boolean zeros = Boolean.TRUE.equals(folder.readJsonIfPresent("model_index.json")
                .get("force_zeros_for_empty_prompt"));
        TextModel two = new TextEncoderSession(env, second, folder.dir().resolve("tokenizer_2"),
                configWidth(folder, "text_encoder_2"), zeros, null, secondVariants);
        return new TextEncoderSession(env, first, folder.tokenizerDir(), configWidth(folder, "text_encoder"), zeros, two,
                firstVariants);
    }

    private static int configWidth(ModelFolder folder, String part) {
        Object w = folder.readJsonIfPresent(part + "/config.json").get("hidden_size");
        return w instanceof Number n ? n.intValue() : -1;
    }

    /**
     * {@code time_ids} for one image of {@code height} x {@code width} pixels: original_size (height, width), crop
     * top-left (0, 0), target_size (height, width), as diffusers' {@code _get_add_time_ids} orders them.
     */
    public static float[] timeIds(int height, int width) {
        return new float[] {height, width, 0, 0, height, width};
    }
}
