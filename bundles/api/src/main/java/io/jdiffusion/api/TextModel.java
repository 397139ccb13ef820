package io.jdiffusion.api;

import java.nio.file.Path;

/**
 * A model's text side as a conditioner sees it: the tokenizer files and the text encoder,
 * which the engine runs (reading the encoder's declared input type).
 */
public interface TextModel {
    /** Folder holding {@code vocab.json}, {@code merges.txt} and the tokenizer configs. */
    Path tokenizerDir();

    /** Tokens per sequence the encoder takes (77 for CLIP). */
    int maxLength();

    /** Width of {@code last_hidden_state} (768 for SD 1.x, 1024 for SD 2.x). */
    int hiddenWidth();

    /**
     * Runs the text encoder on {@code sequences} rows of {@link #maxLength()} token ids.
     *
     * @return {@code last_hidden_state}, shape {@code [sequences, maxLength, hiddenWidth]}, flat
     */
    float[] encode(long[] ids, int sequences);

    /**
     * Rows in the encoder's token-embedding table, so that extra rows (textual inversion) can take
     * the ids from here on; -1 when this model cannot take extra rows.
     */
    default int vocabularySize() {
        return -1;
    }

    /**
     * As {@link #encode(long[], int)}, with {@code extraRows} ({@code [n][width of the token table]})
     * appended to the token-embedding table: id {@code vocabularySize() + i} looks up
     * {@code extraRows[i]}. How textual-inversion vectors reach an encoder whose table is inside it.
     *
     * @throws UnsupportedOperationException when extra rows are given and the model cannot take them
     */
    default float[] encode(long[] ids, int sequences, float[][] extraRows) {
        if (extraRows != null && extraRows.length > 0) {
            throw new UnsupportedOperationException("this text model cannot take textual-inversion embeddings");
        }
        return encode(ids, sequences);
    }

    /**
     * The CLIP skip this model encodes with: 1 is the last layer's output, N the hidden state N-1
     * layers before it, through the final layer norm (A1111's "Clip skip"). The engine sets it per request.
     */
    default int clipSkip() {
        return 1;
    }
}
