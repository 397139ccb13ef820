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
     * A text encoder's outputs for a batch of rows.
     *
     * @param hidden the hidden states {@link #encode} returns, {@code [sequences, maxLength, hiddenWidth]}
     * @param pooled {@code [sequences, pooledWidth]} (SDXL's {@code text_embeds}), or null when the encoder has none
     */
    record Output(float[] hidden, float[] pooled) {
    }

    /**
     * SDXL: the second text encoder ({@code text_encoder_2} with {@code tokenizer_2}), whose hidden states go
     * beside this one's along the width and whose pooled output is the UNet's {@code text_embeds}. Null (the
     * default) for models with one text encoder.
     */
    default TextModel secondEncoder() {
        return null;
    }

    /** Width of the pooled output {@link #encodeWithPooled} gives; 0 (the default) when there is none. */
    default int pooledWidth() {
        return 0;
    }

    /** Runs the encoder once for both its hidden states and its pooled output (null without one). */
    default Output encodeWithPooled(long[] ids, int sequences) {
        return new Output(encode(ids, sequences), null);
    }

    /**
     * Whether an empty negative prompt conditions as zeros rather than as the encoding of "" (SDXL's
     * {@code force_zeros_for_empty_prompt} in model_index.json).
     */
    default boolean zerosForEmptyPrompt() {
        return false;
    }

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
     * As {@link #encodeWithPooled(long[], int)}, with {@code extraRows} appended to the token-embedding table as
     * {@link #encode(long[], int, float[][])} does: how SDXL's second encoder takes textual-inversion vectors and
     * still gives its pooled output ({@code text_embeds}, pooled at the EOS token, never at a new id).
     *
     * @throws UnsupportedOperationException when extra rows are given and the model cannot take them
     * @since 1.4
     */
    default Output encodeWithPooled(long[] ids, int sequences, float[][] extraRows) {
        if (extraRows != null && extraRows.length > 0) {
            throw new UnsupportedOperationException("this text model cannot take textual-inversion embeddings");
        }
        return encodeWithPooled(ids, sequences);
    }

    /**
     * The CLIP skip this model encodes with: 1 is the last layer's output, N the hidden state N-1
     * layers before it, through the final layer norm (A1111's "Clip skip"). The engine sets it per request.
     */
    default int clipSkip() {
        return 1;
    }
}
