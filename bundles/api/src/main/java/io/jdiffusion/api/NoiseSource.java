package io.jdiffusion.api;

/**
 * The seeded generator of one image. Each call is one {@code torch.randn(n)} draw: the
 * engine's default source gives PyTorch's CPU generator values, so a sampler that draws in
 * the same order as diffusers gets diffusers' numbers.
 */
public interface NoiseSource {
    /** The next {@code n} standard-normal float32 values. */
    float[] randn(int n);

    /** The seed this source started from (unsigned 64-bit). */
    long seed();
}
