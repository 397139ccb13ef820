package io.jdiffusion.api;

/**
 * UNet {@code encoder_hidden_states} for one prompt pair, each {@code [1, tokens, width]} flat.
 * {@code negative} has the same shape (the unconditional input of classifier-free guidance).
 */
public record Conditioning(float[] positive, float[] negative, int tokens, int width) {
    public Conditioning {
        if (positive.length != (long) tokens * width || negative.length != positive.length) {
            throw new IllegalArgumentException("conditioning must be [1," + tokens + "," + width + "] for both prompts");
        }
    }
}
