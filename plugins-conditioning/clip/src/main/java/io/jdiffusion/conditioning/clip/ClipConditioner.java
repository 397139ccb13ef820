package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.TextModel;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import java.util.Arrays;

/**
 * Plain CLIP conditioning: each prompt is tokenized to the encoder's length (truncated, EOS kept
 * last, padded with the model's pad token) and both run through the text encoder in one batch.
 *
 * <p>Long prompts (75-token chunks), attention weighting and textual-inversion embeddings come
 * later; they slot in at {@link #tokenize} (more rows per prompt) and {@link #condition} (rows
 * merged back into one {@link Conditioning}).
 */
@Component(service = TextConditioner.class, property = {Plugin.NAME + "=clip", Plugin.LABEL + "=CLIP"})
public class ClipConditioner implements TextConditioner {

    private final ClipTokenizerCache tokenizers;

    public ClipConditioner() {
        this(new ClipTokenizerCache());
    }

    ClipConditioner(ClipTokenizerCache tokenizers) {
        this.tokenizers = tokenizers;
    }

    @Override
    public Conditioning condition(TextModel model, String prompt, String negativePrompt) {
        ClipTokenizer tokenizer = tokenizers.get(model.tokenizerDir());
        int tokens = model.maxLength();
        int width = model.hiddenWidth();

        long[] ids = new long[2 * tokens];
        System.arraycopy(tokenize(tokenizer, prompt, tokens), 0, ids, 0, tokens);
        System.arraycopy(tokenize(tokenizer, negativePrompt, tokens), 0, ids, tokens, tokens);

        float[] hidden = model.encode(ids, 2);
        int row = tokens * width;
        if (hidden == null || hidden.length != 2 * row) {
            throw new IllegalStateException("text encoder returned " + (hidden == null ? "nothing" : hidden.length + " floats")
                    + ", expected [2, " + tokens + ", " + width + "] = " + 2 * row);
        }
        return new Conditioning(Arrays.copyOfRange(hidden, 0, row), Arrays.copyOfRange(hidden, row, 2 * row), tokens, width);
    }

    @Override
    public int countTokens(TextModel model, String prompt) {
        return tokenizers.get(model.tokenizerDir()).countTokens(prompt);
    }

    /** One encoder row for {@code text}: {@code maxLength} ids with BOS, EOS and padding. */
    long[] tokenize(ClipTokenizer tokenizer, String text, int maxLength) {
        return tokenizer.encodePadded(text == null ? "" : text, maxLength);
    }

    @Deactivate
    void deactivate() {
        tokenizers.close();
    }
}
