package io.jdiffusion.modes.inpaint;

import io.jdiffusion.api.DenoisingStrength;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * Inpainting. The init image (its masked area first prepared as {@code inpainting_fill} says, see
 * {@link MaskedContent}) is encoded and noised to the step {@code strength} starts from (as img2img; on an
 * inpainting UNet strength 1 starts from pure noise, as diffusers' inpaint pipeline does). Then:
 * <ul>
 * <li>with an ordinary (4-channel) UNet, as AUTOMATIC1111 does it: during the loop the area outside the mask
 * stays on the original image's path ({@link LatentBlend});</li>
 * <li>with an inpainting (9-channel) UNet, as diffusers' {@code StableDiffusionInpaintPipeline}: the UNet gets
 * the mask and the masked image's latents as extra channels ({@link InpaintingConditioning}) and keeps the
 * unmasked area itself; there is no latent blending.</li>
 * </ul>
 * After decoding, the original pixels are pasted back outside the mask through its blurred edge (A1111's
 * overlay) unless {@code paste_back} is 0.
 *
 * <p>Draws from the image's generator (they matter where the VAE encoder returns the latent distribution: each
 * encode then samples it with one draw of the latent shape, see {@link ModeContext#encodeImage}): on an inpainting
 * UNet exactly {@code StableDiffusionInpaintPipeline}'s order: below strength 1 the init image's encode, the start
 * noise, then the masked image's encode ({@code prepare_latents}, then {@code prepare_mask_latents}); at strength 1
 * the start noise, then the masked image's encode (the init image is not encoded). On an ordinary UNet: the init
 * image's encode (as {@code inpainting_fill} prepared it), then the start noise, as img2img; A1111 samples that
 * posterior from torch's global RNG, outside the seed, so no order reproduces it there.
 *
 * <p>Inputs: {@code init_image}, {@code mask} (white = repaint, black = keep; of the init image's size; both
 * fitted to the request's size by the engine under {@code resize_mode}), {@code strength}, {@code mask_blur},
 * {@code inpainting_fill}, {@code paste_back}.
 */
@Component(service = GenerationMode.class, property = {Plugin.NAME + "=inpaint", Plugin.LABEL + "=inpaint"})
public class InpaintMode implements GenerationMode {
    static final String INIT_IMAGE = "init_image";
    static final String MASK = "mask";
    static final String STRENGTH = "strength";
    static final String MASK_BLUR = "mask_blur";
    static final String INPAINTING_FILL = "inpainting_fill";
    static final String PASTE_BACK = "paste_back";
    /** Extra UNet channels of an inpainting UNet: the mask and 4 masked-image latent channels. */
    static final int INPAINTING_UNET_EXTRA = 5;
    static final double DEFAULT_STRENGTH = 0.75;
    static final double DEFAULT_MASK_BLUR = 4;

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(STRENGTH, DEFAULT_STRENGTH, 0, 1,
                    "Denoising strength inside the mask: 0 keeps the image, 1 redraws the masked area from noise"),
            new ParameterSpec(MASK_BLUR, DEFAULT_MASK_BLUR, 0, 64,
                    "Softness of the mask's edge in pixels (Gaussian standard deviation)"),
            new ParameterSpec(INPAINTING_FILL, MaskedContent.ORIGINAL.ordinal(), 0, 3,
                    "Masked content, what the masked area starts from: 0 fill (blurred colours of its surroundings), "
                            + "1 original, 2 latent noise, 3 latent nothing (zeros)"),
            new ParameterSpec(PASTE_BACK, 1, 0, 1,
                    "1 pastes the original pixels back outside the mask after decoding (exact there); 0 keeps the "
                            + "decoded image everywhere"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Set<String> imageInputs() {
        return Set.of(INIT_IMAGE, MASK);
    }

    /** The mask must be drawn on the init image: of its size before both are fitted. */
    @Override
    public Map<String, String> sameSizeImages() {
        return Map.of(MASK, INIT_IMAGE);
    }

    /** Ordinary UNets (latent blending) and inpainting UNets (mask + masked-image latents). */
    @Override
    public boolean acceptsUnetChannels(int extraChannels) {
        return extraChannels == 0 || extraChannels == INPAINTING_UNET_EXTRA;
    }

    @Override
    public void check(Map<String, Object> inputs) {
        if (!(inputs.get(INIT_IMAGE) instanceof RgbImage)) {
            throw new InvalidRequestException(INIT_IMAGE, "inpaint needs an init image: a base64 PNG, JPEG or WebP");
        }
        if (!(inputs.get(MASK) instanceof RgbImage)) {
            throw new InvalidRequestException(MASK, "inpaint needs a mask: a base64 PNG, JPEG or WebP, white where the "
                    + "image is repainted, black where it is kept");
        }
    }

    @Override
    public Map<String, String> infotext(Map<String, Object> inputs) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Denoising strength", String.valueOf(number(inputs, STRENGTH, DEFAULT_STRENGTH)));
        double blur = number(inputs, MASK_BLUR, DEFAULT_MASK_BLUR);
        m.put("Mask blur", blur == Math.rint(blur) ? String.valueOf((long) blur) : String.valueOf(blur)); // A1111: "4"
        MaskedContent fill = MaskedContent.of(number(inputs, INPAINTING_FILL, MaskedContent.ORIGINAL.ordinal()));
        if (fill != MaskedContent.ORIGINAL) { // A1111 writes it for the other three only
            m.put("Masked content", fill.label);
        }
        return m;
    }

    @Override
    public ModeStart start(ModeContext context) {
        RgbImage init = (RgbImage) context.inputs().get(INIT_IMAGE);
        RgbImage maskImage = (RgbImage) context.inputs().get(MASK);
        int w = init.width();
        int h = init.height();
        int f = w / context.latentShape()[3];
        float[] blurred = Mask.blur(Mask.grey(maskImage), w, h, number(context.inputs(), MASK_BLUR, DEFAULT_MASK_BLUR));
        float[] latentMask = Mask.latent(blurred, w, h, f);
        MaskedContent fill = MaskedContent.of(number(context.inputs(), INPAINTING_FILL, MaskedContent.ORIGINAL.ordinal()));
        boolean pasteBack = number(context.inputs(), PASTE_BACK, 1) >= 0.5;
        float[] overlay = Mask.overlay(blurred);

        int steps = context.plan().steps();
        double strength = number(context.inputs(), STRENGTH, DEFAULT_STRENGTH);
        int startStep = DenoisingStrength.startStep(steps, strength);
        boolean inpaintingUnet = context.unetExtraChannels() == INPAINTING_UNET_EXTRA;
        // The order of the image generator's draws matters where the VAE encoder gives the latent distribution:
        // each encode then takes one randn of the latent shape (ModeContext.encodeImage) before what follows.
        float[] original; // the start latents before noising: the (filled) init image's, or null where unused
        float[] latents;
        if (inpaintingUnet && strength == 1.0) {
            // diffusers' inpaint prepare_latents at is_strength_max on a 9-channel UNet (return_image_latents is
            // false): the init image is not encoded at all; the first draw is the noise, times init_noise_sigma
            original = null;
            float[] noise = context.noise().randn(latentLength(context));
            latents = new float[noise.length];
            for (int i = 0; i < noise.length; i++) latents[i] = (float) (noise[i] * context.plan().initNoiseSigma());
        } else {
            // below strength 1 (and always on a 4-channel UNet): encode, then the noise, as diffusers'
            // prepare_latents (_encode_vae_image, then randn_tensor). On the 4-channel path A1111 samples the VAE
            // posterior from torch's global RNG instead, which no seed reproduces: we keep diffusers' order there
            // too, so with a distribution encoder the start noise is the seed's second draw, not its first.
            float[] encoded = context.encodeImage(fill.fillImage(init, blurred));
            // A1111 draws "latent noise" with the image's seed, i.e. the same values as the start noise
            float[] noise = context.noise().randn(encoded.length);
            original = fill.startLatents(encoded, latentMask, noise);
            latents = startStep < steps ? context.sampler().addNoise(original, noise, context.plan(), startStep) : original;
        }
        // diffusers' prepare_mask_latents comes after prepare_latents: the masked image is encoded last
        float[] unetExtra = inpaintingUnet ? InpaintingConditioning.channels(init, blurred, f, context::encodeImage) : null;
        ImageHooks hooks = new ImageHooks() {
            @Override
            public Denoiser denoiser(Denoiser guided) {
                // the inpainting UNet keeps the unmasked area from its extra channels: no blending (diffusers)
                return inpaintingUnet ? guided : new LatentBlend(guided, original, latentMask, context.plan().config());
            }

            @Override
            public float[] finish(float[] rgb) {
                return pasteBack ? pasteBack(rgb, init.rgb(), overlay) : rgb;
            }
        };
        return new ModeStart(latents, startStep, hooks, unetExtra);
    }

    /** Values in one image's latents: the product of {@link ModeContext#latentShape()}. */
    private static int latentLength(ModeContext context) {
        int n = 1;
        for (int d : context.latentShape()) n *= d;
        return n;
    }

    /** A1111's overlay: the result inside the overlay mask ({@link Mask#overlay}), the original pixels outside it. */
    static float[] pasteBack(float[] result, float[] original, float[] mask) {
        int plane = mask.length;
        float[] out = new float[result.length];
        for (int i = 0; i < out.length; i++) {
            float m = mask[i % plane];
            out[i] = result[i] * m + original[i] * (1f - m);
        }
        return out;
    }

    /** The engine has range-checked it against {@link #parameters()}. */
    static double number(Map<String, Object> inputs, String name, double dflt) {
        return inputs.get(name) instanceof Number n ? n.doubleValue() : dflt;
    }
}
