package io.jdiffusion.toyworld;

/** What the depth channel tell the toy denoiser. Not written yet: the variant's UNet cannot be built. */
final class DepthEvidence {
    private DepthEvidence() {
    }

    static String logits(UnetVariants.Parts p, String logits) {
        throw new UnsupportedOperationException("DepthEvidence is not written yet");
    }

    static String expectedX0(UnetVariants.Parts p, String weights, String expectedX0) {
        throw new UnsupportedOperationException("DepthEvidence is not written yet");
    }
}
