package io.jdiffusion.samplers.testkit;

import io.jdiffusion.api.Denoiser;
import java.util.Arrays;

/**
 * A model that predicts the same value for every one of its {@code n} latents, on a [1, n] latent, whatever
 * the input and timestep: the simplest model whose sampler output can be worked out by hand. Not final:
 * tests subclass it to record the timesteps they are asked about.
 */
public class ConstantModel implements Denoiser {
    private final float value;
    private final int n;

    public ConstantModel(float value, int n) {
        this.value = value;
        this.n = n;
    }

    @Override
    public float[] predict(float[] modelInput, double timestep) {
        float[] out = new float[n];
        Arrays.fill(out, value);
        return out;
    }

    @Override
    public int[] latentShape() {
        return new int[] {1, n};
    }
}
