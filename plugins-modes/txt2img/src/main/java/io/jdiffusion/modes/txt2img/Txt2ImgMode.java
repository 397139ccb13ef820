package io.jdiffusion.modes.txt2img;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Plugin;
import org.osgi.service.component.annotations.Component;

/**
 * Text to image: the loop starts from seeded unit noise scaled to the sampler's first noise
 * level, as diffusers' {@code prepare_latents} does ({@code randn(shape) * init_noise_sigma}).
 */
@Component(service = GenerationMode.class, property = {Plugin.NAME + "=txt2img", Plugin.LABEL + "=txt2img"})
public class Txt2ImgMode implements GenerationMode {
    @Override
    public ModeStart start(ModeContext context) {
        int[] shape = context.latentShape();
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] latents = context.noise().randn(n);
        float sigma = (float) context.plan().initNoiseSigma();
        for (int i = 0; i < n; i++) {
            latents[i] *= sigma;
        }
        return new ModeStart(latents, 0);
    }
}
