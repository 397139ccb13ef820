package io.jdiffusion.api.service;

import java.nio.file.Path;
import java.util.Map;

/**
 * Times a model folder's UNet as the engine calls it, for {@code ./sd bench --model DIR} (since service 1.3;
 * registered by the engine bundle). The inputs are the ones a sampling step gives the UNet: its declared element
 * types (float16 graphs get float16), the extra channels of depth and inpainting UNets, SDXL's {@code text_embeds}
 * and {@code time_ids}, classifier-free guidance's batch of 2 (or two calls of 1 where the UNet takes batch 1).
 */
public interface UnetBench {
    /**
     * Loads the model folder's parts on one provider, with random inputs for one sampling step ready.
     *
     * @param provider {@code CPU} or {@code CUDA}
     * @param size     image side in pixels, or null for the model's default resolution
     * @throws InvalidRequestException for a folder that is not a model or a size the UNet cannot take
     */
    Loaded load(Path modelDir, String provider, Integer size);

    /** A model loaded for timing; close it to free its sessions. */
    interface Loaded extends AutoCloseable {
        /** The provider its sessions really run on (CUDA may have fallen back to CPU). */
        String provider();

        /** What is timed, for the report: id, dtype, in_channels, width, height, inputs, unet_calls_per_step. */
        Map<String, Object> describe();

        /** One sampling step's UNet work with guidance, outputs read back into Java arrays. */
        void step();

        @Override
        void close();
    }
}
