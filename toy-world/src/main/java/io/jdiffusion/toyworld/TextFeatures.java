package io.jdiffusion.toyworld;

/**
 * Where the world's features live in the text states (dims of the last axis, W wide). Dims
 * [{@link #FEATURE_DIMS}, W) hold seeded pseudo-random values for every token.
 * <pre>
 *   0..6    SHAPE one-hot    (circle, square, triangle, star, diamond, cross, hexagon)
 *   7..14   COLOUR one-hot   (red, orange, yellow, green, blue, purple, white, black)
 *   15      BACKGROUND marker (1 for the token "background")
 *   16..23  FG colour  = COLOUR(t) * (1 - BACKGROUND(t+1))   zero in the token table, set by the encoder
 *   24..31  BG colour  = COLOUR(t) * BACKGROUND(t+1)         zero in the token table, set by the encoder
 * </pre>
 */
public final class TextFeatures {
    private TextFeatures() {
    }

    public static final int SHAPE_OFFSET = 0;
    public static final int COLOUR_OFFSET = 7;
    public static final int BACKGROUND_DIM = 15;
    public static final int FG_OFFSET = 16;
    public static final int BG_OFFSET = 24;
    /** Number of feature dims; the random dims start here. */
    public static final int FEATURE_DIMS = 32;
    /**
     * Standard deviation of the random (non-feature) embedding values up to toy-world-2; since toy-world-3 the
     * table normalises every final state to mean 0, variance 1 instead (see TextEncoderModel).
     */
    public static final float RANDOM_STD = 0.3f;

    public static int shapeDim(int shape) { return SHAPE_OFFSET + shape; }
    public static int colourDim(int colour) { return COLOUR_OFFSET + colour; }
    public static int fgDim(int colour) { return FG_OFFSET + colour; }
    public static int bgDim(int colour) { return BG_OFFSET + colour; }
}
