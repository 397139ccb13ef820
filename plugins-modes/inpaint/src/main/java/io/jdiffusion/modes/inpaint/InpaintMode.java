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

        float[] encoded = context.encodeImage(fill.fillImage(init, blurred));
        // the seed's noise: A1111 draws "latent noise" with the image's seed, i.e. the same values as the start noise
        float[] noise = context.noise().randn(encoded.length);
        float[] original = fill.startLatents(encoded, latentMask, noise);
        int steps = context.plan().steps();
        double strength = number(context.inputs(), STRENGTH, DEFAULT_STRENGTH);
        int startStep = DenoisingStrength.startStep(steps, strength);
        boolean inpaintingUnet = context.unetExtraChannels() == INPAINTING_UNET_EXTRA;
        float[] latents = original;
        if (inpaintingUnet && strength == 1.0) {
            // diffusers' inpaint prepare_latents at is_strength_max: pure noise times init_noise_sigma, no image
            latents = new float[noise.length];
            for (int i = 0; i < noise.length; i++) latents[i] = (float) (noise[i] * context.plan().initNoiseSigma());
        } else if (startStep < steps) {
            latents = context.sampler().addNoise(original, noise, context.plan(), startStep);
        }
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
