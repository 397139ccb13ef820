package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.util.List;
import java.util.Random;

/**
 * The text encoder: a token table (feature dims + seeded random dims) looked up by Gather, plus one contextual
 * step that sorts colours into foreground / background by whether the next token is "background".
 */
final class TextEncoderModel {
    static final String TABLE_NAME = "text_model.embeddings.token_embedding.weight";

    private TextEncoderModel() {
    }

    /** The [V, W] token table, row-major. */
    static float[] tokenTable(BpeVocabulary vocab, ToyWorldOptions o) {
        int v = vocab.size(), w = o.hiddenWidth();
        float[] table = new float[v * w];
        Random rnd = new Random(o.seed());
        for (int t = 0; t < v; t++)
            for (int d = TextFeatures.FEATURE_DIMS; d < w; d++)
                table[t * w + d] = (float) (rnd.nextGaussian() * TextFeatures.RANDOM_STD);
        for (int s = 0; s < World.SHAPES.size(); s++)
            table[wordId(vocab, World.SHAPES.get(s)) * w + TextFeatures.shapeDim(s)] = 1f;
        for (int c = 0; c < World.COLOURS.size(); c++)
            table[wordId(vocab, World.COLOURS.get(c)) * w + TextFeatures.colourDim(c)] = 1f;
        table[wordId(vocab, World.BACKGROUND) * w + TextFeatures.BACKGROUND_DIM] = 1f;
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

        String e = g.op2("Gather", table, ids, "axis", 0);                        // [B,S,W]
        String marker = g.slice(e, TextFeatures.BACKGROUND_DIM, TextFeatures.BACKGROUND_DIM + 1, 2); // [B,S,1]
        String shifted = g.slice(marker, 1, Long.MAX_VALUE, 1);                     // [B,S-1,1]
        String nextBg = g.op("Pad", new String[] {shifted, g.longs(0, 0, 0, 0, 1, 0)}); // [B,S,1], 0 at the end
        String colour = g.slice(e, TextFeatures.COLOUR_OFFSET,
                TextFeatures.COLOUR_OFFSET + World.COLOURS.size(), 2);              // [B,S,8]
        String fg = g.mul(colour, g.sub(g.scalar(1f), nextBg));
        String bg = g.mul(colour, nextBg);
        String blocks = g.concat(2, fg, bg);                                        // [B,S,16]
        String placed = g.op("Pad", new String[] {blocks,
                g.longs(0, 0, TextFeatures.FG_OFFSET, 0, 0, w - TextFeatures.FEATURE_DIMS)}); // [B,S,W]
        String hidden = g.opNamed("Add", "last_hidden_state", new String[] {e, placed});

        // pooler_output: the state at argmax(input_ids) (the first EOS, which has the largest id), as CLIP does
        String pos = g.op1("ArgMax", g.castFloat(ids), "axis", 1, "keepdims", 1);  // [B,1]
        String seqLen = g.op2("Gather", g.op1("Shape", ids), g.longScalar(1), "axis", 0);
        String range = g.op("Range", new String[] {g.longScalar(0), seqLen, g.longScalar(1)}); // [S]
        String onehot = g.unsqueeze(g.castFloat(g.op2("Equal", pos, range)), 2);   // [B,S,1]
        g.opNamed("ReduceSum", "pooler_output", new String[] {g.mul(hidden, onehot), g.longs(1)}, "keepdims", 0);

        g.output("last_hidden_state", Graph.FLOAT, "batch", "sequence", w);
        g.output("pooler_output", Graph.FLOAT, "batch", w);
        return g.model("toy-world text encoder " + ToyWorld.VERSION + ": token table + foreground/background step");
    }
}
