package io.jdiffusion.modes.inpaint;

import io.jdiffusion.api.RgbImage;
import java.util.function.Function;

/**
 * The extra input channels of an inpainting (9-channel) UNet, as diffusers' {@code StableDiffusionInpaintPipeline}
 * prepares them ({@code prepare_mask_latents}): the mask binarised at 0.5, brought to latent size by nearest
 * neighbour ({@code F.interpolate}'s default: each latent takes the top-left pixel of its block), then the
 * scaled latents of {@code image * (mask < 0.5)} (the masked pixels 0 in [-1, 1], i.e. grey 0.5 here).
 * Layout {@code [1, 5, h, w]}: mask, then the 4 masked-image latent channels.
 */
final class InpaintingConditioning {
    private InpaintingConditioning() {
    }

    /**
     * @param mask   1 = repaint, {@code [height, width]} in [0, 1]
     * @param encode the model's VAE encoder times its scaling factor
     */
    static float[] channels(RgbImage init, float[] mask, int factor, Function<RgbImage, float[]> encode) {
        int w = init.width(), h = init.height(), n = w * h;
        float[] masked = init.rgb().clone();
        for (int i = 0; i < n; i++) {
            if (mask[i] >= 0.5f) {
                for (int c = 0; c < 3; c++) masked[c * n + i] = 0.5f;
            }
        }
        float[] latents = encode.apply(new RgbImage(w, h, masked));
        int lw = w / factor, lh = h / factor, plane = lw * lh;
        float[] out = new float[plane + latents.length];
        for (int y = 0; y < lh; y++) {
            for (int x = 0; x < lw; x++) {
                out[y * lw + x] = mask[(y * factor) * w + x * factor] >= 0.5f ? 1f : 0f;
            }
        }
        System.arraycopy(latents, 0, out, plane, latents.length);
        return out;
    }
}
