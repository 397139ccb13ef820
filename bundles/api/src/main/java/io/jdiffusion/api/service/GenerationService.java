package io.jdiffusion.api.service;

import io.jdiffusion.api.Progress;
import java.util.List;
import java.util.Map;

/**
 * The engine as the HTTP server and the command line use it. Registered by the engine bundle.
 */
public interface GenerationService {
    /** Runs a request to the end (queued behind others); throws {@link InvalidRequestException} for bad input. */
    GenerationResult generate(GenerationRequest request, Progress progress);

    List<PluginDescription> samplers();

    List<PluginDescription> modes();

    List<PluginDescription> schedules();

    /** Known models: id, path, family, variant, width, height, dtype, loaded, default. */
    List<Map<String, Object>> models();

    /**
     * Closes a loaded model's sessions, freeing its memory; it loads again on next use.
     * Returns false when the model was known but not loaded.
     *
     * @throws java.util.NoSuchElementException when no model has this id
     */
    default boolean unloadModel(String id) {
        throw new UnsupportedOperationException("this engine cannot unload models");
    }

    /**
     * The depth a depth mode would use for an image (since 1.3), for a preview: the model's depth estimator (or
     * a plugin's) run on {@code image} (base64 PNG/JPEG, a data: URL allowed), normalised to 0..255 with white =
     * near, as a grey PNG at the estimator's resolution.
     *
     * @param model null for the default model
     * @throws InvalidRequestException naming {@code init_image} for a bad image, {@code model} for an unknown
     *                                 model or one without a depth estimator
     */
    default byte[] estimateDepth(String model, Object image) {
        throw new UnsupportedOperationException("this engine cannot estimate depth");
    }

    /** Status for {@code GET /api/v1/health}: execution provider, loaded models, queue. */
    Map<String, Object> health();

    /** Token count of a prompt under a model's tokenizer (no BOS/EOS). */
    int countTokens(String model, String prompt);
}
