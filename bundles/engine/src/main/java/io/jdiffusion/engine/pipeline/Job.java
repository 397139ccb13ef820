package io.jdiffusion.engine.pipeline;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.engine.Named;
import io.jdiffusion.engine.model.OnnxModel;
import java.util.Map;

/**
 * A validated request with its plugins resolved: everything the pipeline needs, nothing it
 * must check again. The model is attached on the worker thread, where it loads.
 *
 * @param schedule null for the sampler's own spacing
 * @param seed     unsigned 64-bit seed of the first image; image i uses seed + i
 * @param params   sampler parameters the request set
 * @param noiseSource {@code cpu} (PyTorch's CPU generator) or {@code nv} (A1111's NV Philox)
 * @param clipSkip    1 for the text encoder's last layer, N for the state N-1 layers before it (A1111's Clip skip)
 */
public record Job(GenerationModeRef mode, String prompt, String negativePrompt, Named<Sampler> sampler,
                  Named<NoiseSchedule> schedule, int steps, double cfgScale, long seed, int width, int height,
                  int batchSize, OnnxModel model, Named<TextConditioner> conditioner, Map<String, Object> params,
                  String modelId, String noiseSource, int clipSkip) {

    /** A job on the text encoder's last layer (clip skip 1). */
    public Job(GenerationModeRef mode, String prompt, String negativePrompt, Named<Sampler> sampler,
               Named<NoiseSchedule> schedule, int steps, double cfgScale, long seed, int width, int height,
               int batchSize, OnnxModel model, Named<TextConditioner> conditioner, Map<String, Object> params,
               String modelId, String noiseSource) {
        this(mode, prompt, negativePrompt, sampler, schedule, steps, cfgScale, seed, width, height, batchSize, model,
                conditioner, params, modelId, noiseSource, 1);
    }

    public Job withModel(OnnxModel m) {
        return new Job(mode, prompt, negativePrompt, sampler, schedule, steps, cfgScale, seed, width, height,
                batchSize, m, conditioner, params, modelId, noiseSource, clipSkip);
    }

    /** The job with the clip skip the model applies (1 where the model family ignores it, as A1111). */
    public Job withClipSkip(int skip) {
        return new Job(mode, prompt, negativePrompt, sampler, schedule, steps, cfgScale, seed, width, height,
                batchSize, model, conditioner, params, modelId, noiseSource, skip);
    }

    /** The mode plugin and the inputs it was given. */
    public record GenerationModeRef(Named<GenerationMode> plugin, Map<String, Object> inputs) {
    }
}
