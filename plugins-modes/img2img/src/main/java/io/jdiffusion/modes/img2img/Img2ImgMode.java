package io.jdiffusion.modes.img2img;

import io.jdiffusion.api.DenoisingStrength;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * Image to image, as diffusers' {@code StableDiffusionImg2ImgPipeline}: the init image (already
 * decoded and fitted to the request's size by the engine) is VAE-encoded, noised by the sampler's
 * own {@code add_noise} to the level of the step that {@code strength} starts from, and the loop
 * denoises the remaining steps. The noise is one {@code randn} of the latent shape from the
 * image's generator, so a seed gives diffusers' numbers.
 *
 * <p>Strength 0 denoises nothing: the result is the decode of the encoded input (a VAE round
 * trip of the resized image), and no noise is drawn.
 */
@Component(service = GenerationMode.class, property = {Plugin.NAME + "=img2img", Plugin.LABEL + "=img2img"})
public class Img2ImgMode implements GenerationMode {
    static final String INIT_IMAGE = "init_image";
    static final String STRENGTH = "strength";
    /** A1111's default denoising strength. */
    static final double DEFAULT_STRENGTH = 0.75;

    private static final List<ParameterSpec> PARAMETERS = List.of(new ParameterSpec(STRENGTH, DEFAULT_STRENGTH, 0, 1,
            "Denoising strength: how much of the image is redrawn (0 keeps it, 1 redraws it all)"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Set<String> imageInputs() {
        return Set.of(INIT_IMAGE);
    }

    @Override
    public void check(Map<String, Object> inputs) {
        if (!(inputs.get(INIT_IMAGE) instanceof RgbImage)) {
            throw new InvalidRequestException(INIT_IMAGE, "img2img needs an init image: a base64 PNG, JPEG or WebP "
                    + "(a data: URL is fine)");
        }
    }

    @Override
    public Map<String, String> infotext(Map<String, Object> inputs) {
        return Map.of("Denoising strength", String.valueOf(strength(inputs)));
    }

    @Override
    public ModeStart start(ModeContext context) {
        RgbImage init = (RgbImage) context.inputs().get(INIT_IMAGE);
        float[] latents = context.encodeImage(init);
        int steps = context.plan().steps();
        int startStep = DenoisingStrength.startStep(steps, strength(context.inputs()));
        if (startStep >= steps) {
            return new ModeStart(latents, steps);
        }
        float[] noise = context.noise().randn(latents.length);
        return new ModeStart(context.sampler().addNoise(latents, noise, context.plan(), startStep), startStep);
    }

    /** The engine has range-checked it against {@link #parameters()}. */
    static double strength(Map<String, Object> inputs) {
        return inputs.get(STRENGTH) instanceof Number n ? n.doubleValue() : DEFAULT_STRENGTH;
    }
}
