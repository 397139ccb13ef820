package io.jdiffusion.api;

/**
 * Turns a prompt and a negative prompt into UNet conditioning (tokenize, encode, weight...).
 * Register as a service with {@link Plugin#NAME}.
 */
public interface TextConditioner {
    Conditioning condition(TextModel model, String prompt, String negativePrompt);

    /** How many tokens the prompt uses (without BOS/EOS), for the UI's live count. */
    int countTokens(TextModel model, String prompt);
}
