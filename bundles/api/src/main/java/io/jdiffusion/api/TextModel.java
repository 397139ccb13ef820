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
}
