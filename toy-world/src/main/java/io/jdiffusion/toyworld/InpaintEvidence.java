package io.jdiffusion.toyworld;

/** What the mask and masked-image latents tell the toy denoiser. Not written yet: the variant's UNet cannot be built. */
final class InpaintEvidence {
    private InpaintEvidence() {
    }

    static String logits(UnetVariants.Parts p, String logits) {
        throw new UnsupportedOperationException("InpaintEvidence is not written yet");
    }

    static String expectedX0(UnetVariants.Parts p, String weights, String expectedX0) {
        throw new UnsupportedOperationException("InpaintEvidence is not written yet");
    }
}
