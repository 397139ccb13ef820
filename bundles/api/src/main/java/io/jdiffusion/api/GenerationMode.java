package io.jdiffusion.api;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A way of starting the denoising loop (txt2img, img2img, depth2img, ...): it prepares the start
 * latents and the first step. Register as a service with {@link Plugin#NAME} and {@link Plugin#LABEL}.
 */
public interface GenerationMode {
    /** Start latents in the sampler's convention and the step to start from. */
    ModeStart start(ModeContext context);

    /** Parameters this mode reads from {@link ModeContext#inputs()}, for the API and UI. */
    default List<ParameterSpec> parameters() {
        return List.of();
    }

    /**
     * Names of the inputs that are images (since 1.1). The engine decodes each one the request
     * holds (base64 PNG, JPEG or WebP, a {@code data:} URL prefix allowed) and fits it to the request's
     * width and height under its {@code resize_mode} (0 just resize, 1 crop and resize, 2 resize
     * and fill, as AUTOMATIC1111), so {@link ModeContext#inputs()} holds it as an {@link RgbImage}.
     * A value that is not an image is refused with a 400 naming the input.
     */
    default Set<String> imageInputs() {
        return Set.of();
    }

    /**
     * Image inputs that must arrive with the same pixel size as another image input, checked before both are
     * fitted to the request's size (since 1.4): key = the input, value = the input it must match, e.g. an
     * inpainting mask drawn on its init image. The engine refuses a mismatch with a 400 naming the key.
     */
    default Map<String, String> sameSizeImages() {
        return Map.of();
    }

    /**
     * Checks the inputs before the request is queued (since 1.1), after numbers were range-checked
     * against {@link #parameters()} and images decoded: throw
     * {@code io.jdiffusion.api.service.InvalidRequestException} naming the field, e.g. for a
     * missing image.
     */
    default void check(Map<String, Object> inputs) {
    }

    /**
     * Entries this mode adds to the image's AUTOMATIC1111 infotext (since 1.1), e.g.
     * {@code Denoising strength: 0.75}; in order, keys as A1111 writes them.
     */
    default Map<String, String> infotext(Map<String, Object> inputs) {
        return Map.of();
    }

    /**
     * Whether this mode runs on a UNet that takes {@code extraChannels} input channels beyond the
     * latents (since 1.4): 0 for an ordinary UNet, 1 for a depth UNet (SD 2 depth), 5 for an
     * inpainting UNet (mask + masked-image latents). A mode that accepts extra channels must
     * supply them in {@link ModeStart#unetExtra()}. The engine refuses the request with a 400 on
     * field {@code model} when this answers false.
     */
    default boolean acceptsUnetChannels(int extraChannels) {
        return extraChannels == 0;
    }

    /** What a mode is given for one image. */
    interface ModeContext {
        Sampler sampler();

        SamplerPlan plan();

        /** {@code [1, channels, height/8, width/8]} of the UNet's sample input (without extra mode channels). */
        int[] latentShape();

        NoiseSource noise();

        /** The request's mode inputs by name (images as {@link RgbImage}, numbers, strings). */
        Map<String, Object> inputs();

        /**
         * VAE-encodes an image of the request's size into start latents in the sampler's
         * convention (since 1.1): the encoder's latents times the model's scaling factor,
         * {@link #latentShape()} values. Where the encoder gives the latent distribution (mean and
         * log-variance, Optimum's {@code latent_parameters}) a sample is drawn from it with one
         * {@link #noise()} draw, as diffusers' {@code retrieve_latents(..., generator)} does, so a
         * mode that encodes before drawing its own noise sees the generator in diffusers' order;
         * an encoder that gives latents alone draws nothing.
         *
         * @throws UnsupportedOperationException where the model has no VAE encoder
         */
        default float[] encodeImage(RgbImage image) {
            throw new UnsupportedOperationException("this engine cannot VAE-encode images");
        }

        /**
         * Input channels the model's UNet takes beyond {@link #latentShape()}'s (since 1.4): 0, 1 (depth)
         * or 5 (inpainting); see {@link GenerationMode#acceptsUnetChannels}.
         */
        default int unetExtraChannels() {
            return 0;
        }

        /**
         * The depth estimator for this request's model (since 1.4): the model folder's {@code depth_estimator}
         * when it has one (Stable Diffusion 2 depth does), else one a plugin registered, else null (then a depth
         * mode needs a depth map from the user).
         */
        default DepthEstimator depthEstimator() {
            return null;
        }
    }

    /**
     * Where the loop starts. A {@code startStep} equal to the plan's step count means no
     * denoising at all: the latents are decoded as they are (img2img at strength 0).
     *
     * @param hooks     per-image hooks (since 1.1), or null for none
     * @param unetExtra channels appended after the latents to every UNet input (since 1.4), as diffusers'
     *                  depth and inpainting pipelines concatenate them: {@code [1, unetExtraChannels, h, w]}
     *                  flat at latent size (the engine repeats them for each guidance pass), or null for none
     */
    record ModeStart(float[] latents, int startStep, ImageHooks hooks, float[] unetExtra) {
        /** A start without hooks (the 1.0 constructor). */
        public ModeStart(float[] latents, int startStep) {
            this(latents, startStep, null, null);
        }

        /** A start without extra UNet channels (the 1.1 constructor). */
        public ModeStart(float[] latents, int startStep, ImageHooks hooks) {
            this(latents, startStep, hooks, null);
        }
    }

    /**
     * What a mode may change around the loop of one image (since 1.1), e.g. inpainting keeps the
     * unmasked area by wrapping the denoiser and pastes the original pixels back after decoding.
     */
    interface ImageHooks {
        /** The denoiser the sampler gets, given the engine's guided one. */
        default Denoiser denoiser(Denoiser guided) {
            return guided;
        }

        /** The decoded image, RGB {@code [3, height, width]} in [0, 1], before it is encoded as PNG. */
        default float[] finish(float[] rgb) {
            return rgb;
        }
    }
}
