package io.jdiffusion.toyworld;

/**
 * What the SDXL-shaped toy UNet adds to {@link UnetModel}: the inputs {@code text_embeds} [B, 1280] and
 * {@code time_ids} [B, 6] (optimum UNetOnnxConfig with {@code addition_embed_type == "text_time"}), and a prior that
 * needs every piece of SDXL conditioning wired the way diffusers wires it:
 * <ul>
 *   <li>shape from the first encoder's part of {@code encoder_hidden_states} (widths [0, W1));</li>
 *   <li>foreground colour from the second encoder's part ([W1, W1 + 1280)): the concatenation order matters;</li>
 *   <li>background colour from the pooled {@code text_embeds};</li>
 *   <li>{@code time_ids} must be (H, W, 0, 0, H, W) in pixels (original size, crop top-left, target size):
 *       anything else pulls E[x0] to zero, a flat grey-ish picture.</li>
 * </ul>
 */
final class XlUnet {
    private XlUnet() {
    }

    /**
     * Declares {@code text_embeds} and {@code time_ids} (after encoder_hidden_states, as Optimum orders them) and
     * returns the text prior {@code [B,K]} from the per-scene selection matrix {@code sel} {@code [32,K]}.
     */
    static String prior(Graph g, ToyWorldOptions o, String ehs, String selMatrix) {
        String textEmbeds = g.input("text_embeds", Graph.FLOAT, "batch_size", ToyWorldOptions.XL_SECOND_WIDTH);
        g.input("time_ids", Graph.FLOAT, "batch_size", 6);
        int w1 = o.hiddenWidth();
        int fgFrom = TextFeatures.COLOUR_OFFSET;  // dims 7..23 of encoder 2: colours, marker, FG block
        String shape = g.reduceSum(g.slice(ehs, 0, TextFeatures.COLOUR_OFFSET, 2), false, 1);          // [B,7]
        String fg = g.reduceSum(g.slice(ehs, w1 + fgFrom, w1 + TextFeatures.BG_OFFSET, 2), false, 1);   // [B,17]
        String bg = g.slice(textEmbeds, TextFeatures.BG_OFFSET, TextFeatures.FEATURE_DIMS, 1);         // [B,8]
        String feats = g.concat(1, shape, fg, bg);                                                      // [B,32]
        return g.matmul(feats, selMatrix);
    }

    /** E[x0] {@code [B,4,h,w]} times 1 when time_ids is right for the latent size, fading to 0 when it is not. */
    static String checkTimeIds(Graph g, String shape, String expectedX0) {
        String hw = g.castFloat(g.mul(g.slice(shape, 2, 4, 0), g.longs(ToyVae.FACTOR)));              // [2] = H, W px
        String zeros = g.floats(0f, 0f);
        String expected = g.unsqueeze(g.concat(0, hw, zeros, hw), 0);                                   // [1,6]
        String mismatch = g.reduceSum(g.abs(g.sub("time_ids", expected)), true, 1);                     // [B,1]
        String ok = g.op("Clip", new String[] {g.sub(g.scalar(1f), mismatch), g.scalar(0f), g.scalar(1f)});
        return g.mul(expectedX0, g.reshape(ok, -1, 1, 1, 1));
    }
}
