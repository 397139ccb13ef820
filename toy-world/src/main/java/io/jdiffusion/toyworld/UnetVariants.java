package io.jdiffusion.toyworld;

import java.util.List;

/**
 * What the depth and inpainting UNet variants add to the toy denoiser ({@link UnetModel}): evidence
 * from the mode's extra input channels. The ordinary UNet adds nothing.
 */
final class UnetVariants {
    private UnetVariants() {
    }

    /**
     * The named tensors of the UNet graph a variant may read.
     *
     * @param latents   the sample's latent channels {@code [B,4,h,w]}
     * @param extra     the extra channels {@code [B,e,h,w]}, null for the ordinary UNet
     * @param shape     {@code Shape(latents)}: {@code [B,4,h,w]} as int64
     * @param masks     the shapes' soft masks at latent size {@code [7,N]}, N = h w
     * @param sqrtAbar  {@code [T,1]}; {@code oneMinus} = 1 - abar, {@code [T,1]}
     * @param colours   scaled latent colour of each {@link World#COLOURS} entry, {@code [8][4]}
     */
    record Parts(Graph g, ToyWorldOptions options, List<World.Scene> scenes, double[][] colours, String latents,
                 String extra, String shape, String masks, String sqrtAbar, String oneMinus) {
    }

    /** The scene logits {@code [B,K]} (log likelihood + text prior) with the variant's evidence added. */
    static String logits(Parts p, String logits) {
        return switch (p.options().unetVariant()) {
            case TXT2IMG -> logits;
            case DEPTH -> DepthEvidence.logits(p, logits);
            case INPAINT -> InpaintEvidence.logits(p, logits);
        };
    }

    /** E[x0] {@code [B,4,h,w]} given the scene weights {@code [B,K]}, with the variant's evidence applied. */
    static String expectedX0(Parts p, String weights, String expectedX0) {
        return switch (p.options().unetVariant()) {
            case TXT2IMG -> expectedX0;
            case DEPTH -> DepthEvidence.expectedX0(p, weights, expectedX0);
            case INPAINT -> InpaintEvidence.expectedX0(p, weights, expectedX0);
        };
    }
}
