package io.jdiffusion.api;

/**
 * A run of prompt text whose tokens get the multiplier {@code weight} (1 = as written), or
 * the chunk-break marker {@link #BREAK} (the prompt's {@code BREAK} keyword).
 */
public record WeightedText(String text, double weight, boolean chunkBreak) {
    /** Ends the current chunk of tokens; the next text starts a new one. */
    public static final WeightedText BREAK = new WeightedText("BREAK", -1, true);

    public WeightedText {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
    }

    public static WeightedText of(String text, double weight) {
        return new WeightedText(text, weight, false);
    }
}
