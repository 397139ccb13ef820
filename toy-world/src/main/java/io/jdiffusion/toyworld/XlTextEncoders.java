package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

/**
 * SDXL's two text encoders in the layout Optimum exports them with {@code output_hidden_states=True}
 * (optimum/exporters/onnx/model_configs.py, CLIPTextOnnxConfig and CLIPTextWithProjectionOnnxConfig):
 * <ul>
 *   <li>{@code text_encoder} (CLIPTextModel): {@code last_hidden_state}, {@code pooler_output},
 *       {@code hidden_states.0 .. hidden_states.L}</li>
 *   <li>{@code text_encoder_2} (CLIPTextModelWithProjection): {@code text_embeds} [B, 1280],
 *       {@code last_hidden_state}, {@code hidden_states.0 .. hidden_states.L}</li>
 * </ul>
 * SDXL conditions on the PENULTIMATE hidden state of each ({@code hidden_states.L-1}), so here that is the one
 * carrying the toy features: hidden_states.0 is the bare token table, hidden_states.1 the contextual states (the
 * SD 1.x toy encoder's output), hidden_states.2 (= last_hidden_state) the same with the shape dims rolled by one,
 * so a pipeline that takes the last layer instead draws the wrong shape. {@code text_embeds} sums the states up to
 * the first EOS (a toy of the EOS token's attention over the prompt), so it knows the background colour.
 */
final class XlTextEncoders {
    /** Hidden layers of the toy encoders: hidden_states.0 .. hidden_states.LAYERS are exported. */
    static final int LAYERS = 2;

    private XlTextEncoders() {
    }

    /** {@code text_encoder}: CLIP ViT-L-like, {@code o.hiddenWidth()} wide. */
    static ModelProto first(BpeVocabulary vocab, ToyWorldOptions o) {
        Graph g = new Graph("toy_xl_text_encoder");
        String ids = ids(g, o);
        String last = layers(g, vocab, o.hiddenWidth(), o.seed(), ids);
        String pooled = pool(g, last, ids, false);
        g.opNamed("Identity", "pooler_output", new String[] {pooled});
        g.output("last_hidden_state", Graph.FLOAT, "batch_size", "sequence_length", o.hiddenWidth());
        g.output("pooler_output", Graph.FLOAT, "batch_size", o.hiddenWidth());
        hiddenOutputs(g, o.hiddenWidth());
        return g.model("toy-world SDXL text encoder " + ToyWorld.VERSION + ": penultimate hidden state = features");
    }

    /** {@code text_encoder_2}: OpenCLIP ViT-bigG-like with projection, {@value ToyWorldOptions#XL_SECOND_WIDTH} wide. */
    static ModelProto second(BpeVocabulary vocab, ToyWorldOptions o) {
        int w = ToyWorldOptions.XL_SECOND_WIDTH;
        Graph g = new Graph("toy_xl_text_encoder_2");
        String ids = ids(g, o);
        String last = layers(g, vocab, w, o.seed() + 1, ids);
        String pooled = pool(g, last, ids, true);
        // the projection of a real encoder; the identity keeps the feature dims where the toy UNet reads them
        g.opNamed("Identity", "text_embeds", new String[] {pooled});
        g.output("text_embeds", Graph.FLOAT, "batch_size", w);
        g.output("last_hidden_state", Graph.FLOAT, "batch_size", "sequence_length", w);
        hiddenOutputs(g, w);
        return g.model("toy-world SDXL text encoder 2 " + ToyWorld.VERSION
                + ": penultimate hidden state = features, text_embeds = pooled prompt");
    }

    private static String ids(Graph g, ToyWorldOptions o) {
        int idsType = o.idsType() == ToyWorldOptions.IdsType.INT32 ? Graph.INT32 : Graph.INT64;
        return g.input("input_ids", idsType, "batch_size", "sequence_length");
    }

    /** Defines hidden_states.0..LAYERS and last_hidden_state; returns the last layer's value name. */
    private static String layers(Graph g, BpeVocabulary vocab, int w, long seed, String ids) {
        ToyWorldOptions tableOptions = ToyWorldOptions.builder().hiddenWidth(w).seed(seed).build();
        String table = g.init(TextEncoderModel.TABLE_NAME, TextEncoderModel.tokenTable(vocab, tableOptions),
                vocab.size(), w);
        String e = g.op2("Gather", table, ids, "axis", 0);                                   // [B,S,W]
        String context = contextual(g, e, w);
        // the last layer: shape dims rolled by one (circle -> square's slot ...), everything else as before
        int shapes = World.SHAPES.size();
        String rolled = g.concat(2, g.slice(context, 1, shapes, 2), g.slice(context, 0, 1, 2),
                g.slice(context, shapes, w, 2));
        g.opNamed("Identity", "hidden_states.0", new String[] {e});
        g.opNamed("Identity", "hidden_states.1", new String[] {context});
        g.opNamed("Identity", "hidden_states.2", new String[] {rolled});
        return g.opNamed("Identity", "last_hidden_state", new String[] {rolled});
    }

    private static void hiddenOutputs(Graph g, int w) {
        for (int i = 0; i <= LAYERS; i++) g.output("hidden_states." + i, Graph.FLOAT, "batch_size", "sequence_length", w);
    }

    /** The toy contextual step (as {@link TextEncoderModel}): colours before "background" are background colours. */
    private static String contextual(Graph g, String e, int w) {
        String marker = g.slice(e, TextFeatures.BACKGROUND_DIM, TextFeatures.BACKGROUND_DIM + 1, 2);
        String shifted = g.slice(marker, 1, Long.MAX_VALUE, 1);
        String nextBg = g.op("Pad", new String[] {shifted, g.longs(0, 0, 0, 0, 1, 0)});
        String colour = g.slice(e, TextFeatures.COLOUR_OFFSET, TextFeatures.COLOUR_OFFSET + World.COLOURS.size(), 2);
        String fg = g.mul(colour, g.sub(g.scalar(1f), nextBg));
        String bg = g.mul(colour, nextBg);
        String placed = g.op("Pad", new String[] {g.concat(2, fg, bg),
                g.longs(0, 0, TextFeatures.FG_OFFSET, 0, 0, w - TextFeatures.FEATURE_DIMS)});
        return g.add(e, placed);
    }

    /**
     * The state at the first EOS (argmax of the ids, as CLIP pools), or with {@code upToEos} the sum of the states
     * from BOS to that EOS.
     */
    private static String pool(Graph g, String states, String ids, boolean upToEos) {
        String pos = g.op1("ArgMax", g.castFloat(ids), "axis", 1, "keepdims", 1);          // [B,1]
        String seqLen = g.op2("Gather", g.op1("Shape", ids), g.longScalar(1), "axis", 0);
        String range = g.op("Range", new String[] {g.longScalar(0), seqLen, g.longScalar(1)}); // [S]
        String select = upToEos ? g.op2("LessOrEqual", range, pos) : g.op2("Equal", pos, range); // [B,S]
        String weights = g.unsqueeze(g.castFloat(select), 2);                                // [B,S,1]
        return g.reduceSum(g.mul(states, weights), false, 1);                                // [B,W]
    }
}
