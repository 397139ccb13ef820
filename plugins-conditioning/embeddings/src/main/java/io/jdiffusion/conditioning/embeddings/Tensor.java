package io.jdiffusion.conditioning.embeddings;

import java.util.Arrays;

/** A tensor read from an embedding file, converted to float32, row-major. */
record Tensor(long[] shape, float[] data) {
    Tensor {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " values, got " + data.length);
        }
    }

    /**
     * As {@code [vectors][width]}: a 1-d tensor is one vector (diffusers' learned_embeds), a 2-d one is
     * {@code [vectors, width]}; anything else is not an embedding.
     */
    float[][] vectors(String what) {
        if (shape.length == 1) {
            return new float[][] {data.clone()};
        }
        if (shape.length == 2 && shape[0] > 0) {
            int n = (int) shape[0];
            int w = (int) shape[1];
            float[][] out = new float[n][];
            for (int i = 0; i < n; i++) {
                out[i] = Arrays.copyOfRange(data, i * w, (i + 1) * w);
            }
            return out;
        }
        throw new EmbeddingFormatException(what + " has shape " + Arrays.toString(shape)
                + ", expected [width] or [vectors, width]");
    }
}
