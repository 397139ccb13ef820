package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The text encoder, shaped like a torch.onnx export of CLIPTextModel so that graph edits made for real
 * exports (textual-inversion rows, CLIP skip) work on it:
 * <pre>
 *   /text_model/embeddings/token_embedding/Gather   token table text_model.embeddings.token_embedding.weight
 *   /text_model/encoder/layers.0/...                a residual layer whose branch is zero: x + 0 * LN(x)
 *   /text_model/encoder/layers.1/...                the contextual step: colours to foreground / background
 *                                                   by whether the next token is "background" (residual add)
 *   /text_model/final_layer_norm/LayerNormalization -> last_hidden_state
 * </pre>
 * Every token's row is made so that its state after the last layer has mean 0 and variance 1 over the
 * width, and the final norm's weight is sqrt(1 + eps): the final layer norm is then the identity on
 * every plain-vocabulary state, and the features the UNet reads are exactly 0 or 1 (up to float rounding).
 * CLIP skip 2 (the state after layers.0, through the final norm) misses the contextual step: its colours
 * are neither foreground nor background, so the UNet picks them from the seed.
 */
final class TextEncoderModel {
    static final String TABLE_NAME = "text_model.embeddings.token_embedding.weight";
    static final String NORM_WEIGHT = "text_model.final_layer_norm.weight";
    static final String NORM_BIAS = "text_model.final_layer_norm.bias";
    /** CLIP's layer_norm_eps. */
    static final float EPS = 1e-5f;
    /** Encoder layers, as named in the graph. */
    static final int LAYERS = 2;

    private TextEncoderModel() {
    }

    /** The [V, W] token table, row-major. */
    static float[] tokenTable(BpeVocabulary vocab, ToyWorldOptions o) {
        int v = vocab.size(), w = o.hiddenWidth();
        float[] table = new float[v * w];
        int[] finalOnes = new int[v]; // feature dims that are 1 in the token's state after the last layer
        for (int s = 0; s < World.SHAPES.size(); s++) {
            int t = wordId(vocab, World.SHAPES.get(s));
            table[t * w + TextFeatures.shapeDim(s)] = 1f;
            finalOnes[t]++;
        }
        for (int c = 0; c < World.COLOURS.size(); c++) {
            int t = wordId(vocab, World.COLOURS.get(c));
            table[t * w + TextFeatures.colourDim(c)] = 1f;
            finalOnes[t] += 2; // the colour, and its foreground or background copy
        }
        int bg = wordId(vocab, World.BACKGROUND);
        table[bg * w + TextFeatures.BACKGROUND_DIM] = 1f;
        finalOnes[bg]++;

        // random dims: a seeded direction with zero sum, shifted and scaled so that the final state
        // (k ones in the features) has sum 0 and sum of squares w: mean 0, variance 1
        int n = w - TextFeatures.FEATURE_DIMS;
        Random rnd = new Random(o.seed());
        double[] u = new double[n];
        for (int t = 0; t < v; t++) {
            double mean = 0;
            for (int d = 0; d < n; d++) {
                u[d] = rnd.nextGaussian();
                mean += u[d];
            }
            mean /= n;
            double norm = 0;
            for (int d = 0; d < n; d++) {
                u[d] -= mean;
                norm += u[d] * u[d];
            }
            norm = Math.sqrt(norm);
            int k = finalOnes[t];
            double scale = Math.sqrt(w - k - (double) k * k / n);
            for (int d = 0; d < n; d++) {
                table[t * w + TextFeatures.FEATURE_DIMS + d] = (float) (-(double) k / n + scale * u[d] / norm);
            }
        }
        return table;
    }

    /** The single token id of a world word. */
    static int wordId(BpeVocabulary vocab, String word) {
        List<String> tokens = vocab.tokenizer().tokens(word);
        if (tokens.size() != 1)
            throw new IllegalStateException("world word '" + word + "' is not one token: " + tokens);
        return vocab.vocab().get(tokens.get(0));
    }

    static ModelProto build(BpeVocabulary vocab, ToyWorldOptions o) {
        int v = vocab.size(), w = o.hiddenWidth();
        Graph g = new Graph("toy_text_encoder");
        int idsType = o.idsType() == ToyWorldOptions.IdsType.INT32 ? Graph.INT32 : Graph.INT64;
        String ids = g.input("input_ids", idsType, "batch", "sequence");
        String table = g.init(TABLE_NAME, tokenTable(vocab, o), v, w);
        float[] ones = new float[w];
        Arrays.fill(ones, 1f);
        float[] gamma = new float[w];
        Arrays.fill(gamma, (float) Math.sqrt(1.0 + EPS)); // undoes the eps: LN is the identity on normalised rows
        String normWeight = g.init(NORM_WEIGHT, gamma, w);
        String normBias = g.init(NORM_BIAS, new float[w], w);

        String e = g.node("/text_model/embeddings/token_embedding/Gather", "Gather",
                "/text_model/embeddings/token_embedding/Gather_output_0", new String[] {table, ids}, "axis", 0); // [B,S,W]

        // layers.0: a residual block whose branch is multiplied by zero
        String l0 = "/text_model/encoder/layers.0/";
        String ln1w = g.init("text_model.encoder.layers.0.layer_norm1.weight", ones, w);
        String ln1b = g.init("text_model.encoder.layers.0.layer_norm1.bias", new float[w], w);
        String ln1 = g.node(l0 + "layer_norm1/LayerNormalization", "LayerNormalization",
                l0 + "layer_norm1/LayerNormalization_output_0", new String[] {e, ln1w, ln1b}, "axis", -1, "epsilon", EPS);
        String zero = g.node(l0 + "Mul", "Mul", l0 + "Mul_output_0", new String[] {ln1, g.scalar(0f)});
        String h0 = g.node(l0 + "Add_1", "Add", l0 + "Add_1_output_0", new String[] {e, zero});

        // layers.1: the foreground / background step
        String l1 = "/text_model/encoder/layers.1/";
        g.scope = l1;
        String marker = g.slice(h0, TextFeatures.BACKGROUND_DIM, TextFeatures.BACKGROUND_DIM + 1, 2); // [B,S,1]
        String shifted = g.slice(marker, 1, Long.MAX_VALUE, 1);                     // [B,S-1,1]
        String nextBg = g.op("Pad", new String[] {shifted, g.longs(0, 0, 0, 0, 1, 0)}); // [B,S,1], 0 at the end
        String colour = g.slice(h0, TextFeatures.COLOUR_OFFSET,
                TextFeatures.COLOUR_OFFSET + World.COLOURS.size(), 2);              // [B,S,8]
        String fg = g.mul(colour, g.sub(g.scalar(1f), nextBg));
        String bg = g.mul(colour, nextBg);
        String blocks = g.concat(2, fg, bg);                                        // [B,S,16]
        String placed = g.op("Pad", new String[] {blocks,
                g.longs(0, 0, TextFeatures.FG_OFFSET, 0, 0, w - TextFeatures.FEATURE_DIMS)}); // [B,S,W]
        g.scope = null;
        String h1 = g.node(l1 + "Add_1", "Add", l1 + "Add_1_output_0", new String[] {h0, placed});

        String hidden = g.node("/text_model/final_layer_norm/LayerNormalization", "LayerNormalization",
                "last_hidden_state", new String[] {h1, normWeight, normBias}, "axis", -1, "epsilon", EPS);

        // pooler_output: the state at argmax(input_ids) (the first EOS, which has the largest id), as CLIP does
        String pos = g.op1("ArgMax", g.castFloat(ids), "axis", 1, "keepdims", 1);  // [B,1]
        String seqLen = g.op2("Gather", g.op1("Shape", ids), g.longScalar(1), "axis", 0);
        String range = g.op("Range", new String[] {g.longScalar(0), seqLen, g.longScalar(1)}); // [S]
        String onehot = g.unsqueeze(g.castFloat(g.op2("Equal", pos, range)), 2);   // [B,S,1]
        g.opNamed("ReduceSum", "pooler_output", new String[] {g.mul(hidden, onehot), g.longs(1)}, "keepdims", 0);

        g.output("last_hidden_state", Graph.FLOAT, "batch", "sequence", w);
        g.output("pooler_output", Graph.FLOAT, "batch", w);
        return g.model("toy-world text encoder " + ToyWorld.VERSION
                + ": token table, two encoder layers (the second: foreground/background), final layer norm");
    }
}
