package io.jdiffusion.engine.pipeline;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.engine.model.OnnxModel;

/**
 * The UNet with classifier-free guidance, as a sampler sees it. With guidance the
 * unconditional and conditional passes run as one batch of 2 when the model allows a dynamic
 * batch (else as two calls); a scale of exactly 1 skips the unconditional pass.
 */
final class GuidedDenoiser implements Denoiser {
    private final OnnxModel model;
    private final Conditioning cond;
    private final double scale;
    private final int[] shape;
    private final float[] batchedHidden;
    private final float[] batchedSample;
    private int calls;

    GuidedDenoiser(OnnxModel model, Conditioning cond, double scale, int[] shape) {
        this.model = model;
        this.cond = cond;
        this.scale = scale;
        this.shape = shape.clone();
        int n = shape[1] * shape[2] * shape[3];
        if (guided() && model.unetBatchesGuidance()) {
            batchedHidden = new float[cond.positive().length * 2];
            System.arraycopy(cond.negative(), 0, batchedHidden, 0, cond.positive().length);
            System.arraycopy(cond.positive(), 0, batchedHidden, cond.positive().length, cond.positive().length);
            batchedSample = new float[2 * n];
        } else {
            batchedHidden = null;
            batchedSample = null;
        }
    }

    private boolean guided() {
        return scale != 1.0;
    }

    @Override
    public int[] latentShape() {
        return shape.clone();
    }

    int calls() {
        return calls;
    }

    @Override
    public float[] predict(float[] modelInput, double timestep) {
        int h = shape[2];
        int w = shape[3];
        int tokens = cond.tokens();
        calls++;
        if (!guided()) {
            return model.unet(modelInput, 1, h, w, timestep, cond.positive(), tokens);
        }
        float[] uncond;
        float[] text;
        int n = modelInput.length;
        if (batchedSample != null) {
            System.arraycopy(modelInput, 0, batchedSample, 0, n);
            System.arraycopy(modelInput, 0, batchedSample, n, n);
            float[] out = model.unet(batchedSample, 2, h, w, timestep, batchedHidden, tokens);
            uncond = java.util.Arrays.copyOfRange(out, 0, n);
            text = java.util.Arrays.copyOfRange(out, n, 2 * n);
        } else {
            uncond = model.unet(modelInput, 1, h, w, timestep, cond.negative(), tokens);
            text = model.unet(modelInput, 1, h, w, timestep, cond.positive(), tokens);
        }
        float g = (float) scale;
        for (int i = 0; i < n; i++) { // diffusers: uncond + scale * (text - uncond)
            uncond[i] = uncond[i] + g * (text[i] - uncond[i]);
        }
        return uncond;
    }
}
