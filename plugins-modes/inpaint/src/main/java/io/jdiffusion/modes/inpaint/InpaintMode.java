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
 * Inpainting with an ordinary (4-channel) UNet, as AUTOMATIC1111 does it: the init image is
 * encoded and noised to the step {@code strength} starts from (as img2img); during the loop the
 * area outside the mask stays on the original image's path ({@link LatentBlend}); after decoding,
 * the original pixels are pasted back outside the mask, through its blurred edge.
 *
 * <p>Inputs: {@code init_image}, {@code mask} (white = repaint, black = keep; both fitted to the
 * request's size by the engine under {@code resize_mode}), {@code strength}, {@code mask_blur}.
 */
@Component(service = GenerationMode.class, property = {Plugin.NAME + "=inpaint", Plugin.LABEL + "=inpaint"})
public class InpaintMode implements GenerationMode {
    static final String INIT_IMAGE = "init_image";
    static final String MASK = "mask";
    static final String STRENGTH = "strength";
    static final String MASK_BLUR = "mask_blur";
    static final double DEFAULT_STRENGTH = 0.75;
    static final double DEFAULT_MASK_BLUR = 4;

    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec(STRENGTH, DEFAULT_STRENGTH, 0, 1,
                    "Denoising strength inside the mask: 0 keeps the image, 1 redraws the masked area from noise"),
            new ParameterSpec(MASK_BLUR, DEFAULT_MASK_BLUR, 0, 64,
                    "Softness of the mask's edge in pixels (Gaussian standard deviation)"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Set<String> imageInputs() {
        return Set.of(INIT_IMAGE, MASK);
    }

    @Override
    public void check(Map<String, Object> inputs) {
        if (!(inputs.get(INIT_IMAGE) instanceof RgbImage)) {
            throw new InvalidRequestException(INIT_IMAGE, "inpaint needs an init image: a base64 PNG or JPEG");
        }
        if (!(inputs.get(MASK) instanceof RgbImage)) {
            throw new InvalidRequestException(MASK, "inpaint needs a mask: a base64 PNG or JPEG, white where the "
                    + "image is repainted, black where it is kept");
        }
    }

    @Override
    public Map<String, String> infotext(Map<String, Object> inputs) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Denoising strength", String.valueOf(number(inputs, STRENGTH, DEFAULT_STRENGTH)));
        double blur = number(inputs, MASK_BLUR, DEFAULT_MASK_BLUR);
        m.put("Mask blur", blur == Math.rint(blur) ? String.valueOf((long) blur) : String.valueOf(blur)); // A1111: "4"
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

        float[] original = context.encodeImage(init);
        int steps = context.plan().steps();
        int startStep = DenoisingStrength.startStep(steps, number(context.inputs(), STRENGTH, DEFAULT_STRENGTH));
        float[] latents = original;
        if (startStep < steps) {
            float[] noise = context.noise().randn(original.length);
            latents = context.sampler().addNoise(original, noise, context.plan(), startStep);
        }
        ImageHooks hooks = new ImageHooks() {
            @Override
            public Denoiser denoiser(Denoiser guided) {
                return new LatentBlend(guided, original, latentMask, context.plan().config());
            }

            @Override
            public float[] finish(float[] rgb) {
                return pasteBack(rgb, init.rgb(), blurred);
            }
        };
        return new ModeStart(latents, startStep, hooks);
    }

    /** A1111's overlay: the result inside the (blurred) mask, the original pixels outside it. */
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
