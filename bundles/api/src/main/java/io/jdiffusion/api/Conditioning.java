package io.jdiffusion.api;

/**
 * UNet {@code encoder_hidden_states} for one prompt pair, each {@code [1, tokens, width]} flat.
 * {@code negative} has the same shape (the unconditional input of classifier-free guidance).
 * <p>
 * SDXL models also take a pooled text vector ({@code text_embeds}): {@code pooled} and {@code negativePooled},
 * each {@code [1, pooledWidth]}, from the second text encoder's first chunk; null for models without one.
 */
public record Conditioning(float[] positive, float[] negative, int tokens, int width, float[] pooled,
                           float[] negativePooled) {
    public Conditioning {
        if (positive.length != (long) tokens * width || negative.length != positive.length) {
            throw new IllegalArgumentException("conditioning must be [1," + tokens + "," + width + "] for both prompts");
        }
        if ((pooled == null) != (negativePooled == null)
                || pooled != null && pooled.length != negativePooled.length) {
            throw new IllegalArgumentException("pooled conditioning must be given for both prompts, of one width");
        }
    }

    /** Without a pooled vector (SD 1.x / 2.x). */
    public Conditioning(float[] positive, float[] negative, int tokens, int width) {
        this(positive, negative, tokens, width, null, null);
    }

    /** Width of the pooled vectors, 0 when there are none. */
    public int pooledWidth() {
        return pooled == null ? 0 : pooled.length;
    }
}
