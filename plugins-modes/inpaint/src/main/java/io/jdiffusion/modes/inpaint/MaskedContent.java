package io.jdiffusion.modes.inpaint;

import io.jdiffusion.api.RgbImage;

/**
 * What the masked area starts from, as AUTOMATIC1111's {@code inpainting_fill} ("Masked content"):
 * <ul>
 * <li>{@link #FILL} (0): the init image with the masked area painted over by blurred colours of its
 * surroundings ({@code masking.fill}), then encoded;</li>
 * <li>{@link #ORIGINAL} (1): the init image as it is;</li>
 * <li>{@link #LATENT_NOISE} (2): the encoded init image with the masked latents replaced by the seed's
 * noise (A1111 draws it with the image's seed, so it is the start noise itself);</li>
 * <li>{@link #LATENT_NOTHING} (3): the masked latents set to zero.</li>
 * </ul>
 * Strength then noises these start latents as for any img2img start.
 */
enum MaskedContent {
    FILL("fill"), ORIGINAL("original"), LATENT_NOISE("latent noise"), LATENT_NOTHING("latent nothing");

    /** A1111's (radius, repeats) passes of {@code masking.fill}: coarse colour first, finer on top. */
    private static final int[][] FILL_PASSES = {{256, 1}, {64, 1}, {16, 2}, {4, 4}, {2, 2}, {0, 1}};

    /** The infotext value A1111 writes under "Masked content". */
    final String label;

    MaskedContent(String label) {
        this.label = label;
    }

    /** The request's {@code inpainting_fill} (range-checked by the engine against the mode's parameters). */
    static MaskedContent of(double value) {
        return values()[(int) Math.round(value)];
    }

    /** The start latents: {@code encoded} (of {@link #fillImage}'s image) with the masked latents replaced. */
    float[] startLatents(float[] encoded, float[] latentMask, float[] noise) {
        if (this != LATENT_NOISE && this != LATENT_NOTHING) {
            return encoded;
        }
        int plane = latentMask.length;
        float[] out = encoded.clone();
        for (int i = 0; i < out.length; i++) {
            float m = latentMask[i % plane];
            out[i] = encoded[i] * (1f - m) + (this == LATENT_NOISE ? noise[i] * m : 0f);
        }
        return out;
    }

    /** The image that is encoded: A1111 fills the masked area for every option but "original". */
    RgbImage fillImage(RgbImage init, float[] mask) {
        return this == ORIGINAL ? init : fill(init, mask);
    }

    /**
     * A1111's {@code masking.fill}: the image with alpha = 1 - mask, blurred at decreasing radii (blurring the
     * premultiplied colours, so the masked area takes the average colour of its surroundings) and composited
     * over itself, the unblurred image last. Outside the mask the pixels stay exactly as they were.
     */
    static RgbImage fill(RgbImage init, float[] mask) {
        int w = init.width(), h = init.height(), n = w * h;
        float[] alpha = new float[n];
        float[][] premul = new float[3][n];
        for (int i = 0; i < n; i++) {
            alpha[i] = 1f - mask[i];
            for (int c = 0; c < 3; c++) premul[c][i] = init.rgb()[c * n + i] * alpha[i];
        }
        float[] outA = new float[n];
        float[][] outC = new float[3][n]; // premultiplied
        for (int[] pass : FILL_PASSES) {
            float[] a = BoxBlur.gaussian(alpha, w, h, pass[0]);
            float[][] p = new float[3][];
            for (int c = 0; c < 3; c++) p[c] = BoxBlur.gaussian(premul[c], w, h, pass[0]);
            for (int r = 0; r < pass[1]; r++) {
                for (int i = 0; i < n; i++) { // source over: premultiplied src + dst (1 - src alpha)
                    float keep = 1f - a[i];
                    outA[i] = a[i] + outA[i] * keep;
                    for (int c = 0; c < 3; c++) outC[c][i] = p[c][i] + outC[c][i] * keep;
                }
            }
        }
        float[] rgb = new float[3 * n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) rgb[c * n + i] = outA[i] > 0 ? Math.min(1f, outC[c][i] / outA[i]) : 0f;
        }
        return new RgbImage(w, h, rgb);
    }
}
