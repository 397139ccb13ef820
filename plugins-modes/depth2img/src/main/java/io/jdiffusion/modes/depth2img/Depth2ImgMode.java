package io.jdiffusion.modes.depth2img;

import io.jdiffusion.api.DenoisingStrength;
import io.jdiffusion.api.DepthEstimator;
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
 * Depth to image, as diffusers' {@code StableDiffusionDepth2ImgPipeline} on a 5-channel depth UNet (Stable
 * Diffusion 2 depth): the depth map (the user's {@code depth_map}, else the model's depth estimator run on the
 * init image) is resized bicubically to the latent size, normalised to [-1, 1] and appended as the UNet's fifth
 * channel on every call; the start is img2img's (VAE-encode the init image, one {@code randn}, the sampler's
 * {@code add_noise} at the step {@code strength} gives). So the picture keeps the input's layout (what is near
 * stays near) while the prompt redraws it, even at high strength.
 */
@Component(service = GenerationMode.class, property = {Plugin.NAME + "=depth2img", Plugin.LABEL + "=depth2img"})
public class Depth2ImgMode implements GenerationMode {
    static final String INIT_IMAGE = "init_image";
    static final String DEPTH_MAP = "depth_map";
    static final String STRENGTH = "strength";
    /** diffusers' depth pipeline's default strength. */
    static final double DEFAULT_STRENGTH = 0.8;

    private static final List<ParameterSpec> PARAMETERS = List.of(new ParameterSpec(STRENGTH, DEFAULT_STRENGTH, 0, 1,
            "Denoising strength: how much of the image is redrawn (0 keeps it, 1 redraws it all; the depth stays)"));

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    /** {@code depth_map} is optional: without it the model's depth estimator reads the init image. */
    @Override
    public Set<String> imageInputs() {
        return Set.of(INIT_IMAGE, DEPTH_MAP);
    }

    /** Only a depth UNet: one channel beyond the latents. */
    @Override
    public boolean acceptsUnetChannels(int extraChannels) {
        return extraChannels == 1;
    }

    @Override
    public void check(Map<String, Object> inputs) {
        if (!(inputs.get(INIT_IMAGE) instanceof RgbImage)) {
            throw new InvalidRequestException(INIT_IMAGE, "depth2img needs an init image: a base64 PNG or JPEG "
                    + "(a data: URL is fine)");
        }
    }

    @Override
    public Map<String, String> infotext(Map<String, Object> inputs) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Denoising strength", String.valueOf(strength(inputs)));
        m.put("Depth map", inputs.get(DEPTH_MAP) instanceof RgbImage ? "user" : "estimated");
        return m;
    }

    /**
     * The last request's depth channel, keyed by its inputs map: the images of a batch share one depth (the
     * estimator runs once per request, not once per image). Weak, so a finished request is not kept alive.
     */
    private final Map<Map<String, Object>, float[]> lastDepth = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());

    @Override
    public ModeStart start(ModeContext context) {
        RgbImage init = (RgbImage) context.inputs().get(INIT_IMAGE);
        int[] shape = context.latentShape();
        float[] depth = depthChannel(context, init, shape[2], shape[3]);
        float[] latents = context.encodeImage(init);
        int steps = context.plan().steps();
        int startStep = DenoisingStrength.startStep(steps, strength(context.inputs()));
        if (startStep >= steps) {
            return new ModeStart(latents, steps, null, depth);
        }
        float[] noise = context.noise().randn(latents.length);
        return new ModeStart(context.sampler().addNoise(latents, noise, context.plan(), startStep), startStep, null,
                depth);
    }

    private float[] depthChannel(ModeContext context, RgbImage init, int h, int w) {
        Map<String, Object> key = context.inputs();
        float[] known = lastDepth.get(key);
        if (known != null && known.length == h * w) {
            return known;
        }
        float[] depth = DepthChannel.of(depthMap(context, init), h, w);
        lastDepth.clear();
        lastDepth.put(key, depth);
        return depth;
    }

    /** The user's map, else the estimator's reading of the init image. */
    private static DepthEstimator.DepthMap depthMap(ModeContext context, RgbImage init) {
        if (context.inputs().get(DEPTH_MAP) instanceof RgbImage user) {
            return DepthChannel.fromImage(user);
        }
        DepthEstimator estimator = context.depthEstimator();
        if (estimator == null) {
            throw new InvalidRequestException(DEPTH_MAP, "this model has no depth estimator (no depth_estimator/ "
                    + "folder) and no depth estimator plugin is installed: send depth_map, a grey image where white "
                    + "is near");
        }
        return estimator.estimate(init);
    }

    /** The engine has range-checked it against {@link #parameters()}. */
    static double strength(Map<String, Object> inputs) {
        return inputs.get(STRENGTH) instanceof Number n ? n.doubleValue() : DEFAULT_STRENGTH;
    }
}
