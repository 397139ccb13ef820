package io.jdiffusion.engine.model;

import io.jdiffusion.api.TextModel;
import java.nio.file.Path;

/**
 * A text model with one encoder and nothing else (no second encoder, pooled output, extra rows or clip
 * skip): the tokenizer folder, the sequence length and width, and how to encode.
 */
record PlainTextModel(Path tokenizerDir, int maxLength, int hiddenWidth, Encoder encoder) implements TextModel {
    /** {@link TextModel#encode(long[], int)}'s body. */
    @FunctionalInterface
    interface Encoder {
        float[] encode(long[] ids, int sequences);
    }

    @Override
    public float[] encode(long[] ids, int sequences) {
        return encoder.encode(ids, sequences);
    }
}
