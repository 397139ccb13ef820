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

    /** Known models: id, path, family, resolution, loaded. */
    List<Map<String, Object>> models();

    /** Status for {@code GET /api/v1/health}: execution provider, loaded models, queue. */
    Map<String, Object> health();

    /** Token count of a prompt under a model's tokenizer (no BOS/EOS). */
    int countTokens(String model, String prompt);
}
