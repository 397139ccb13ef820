package io.jdiffusion.api;

import java.util.List;

/**
 * Turns a prompt and a negative prompt into UNet conditioning (tokenize, encode, weight...).
 * Register as a service with {@link Plugin#NAME}.
 */
public interface TextConditioner {
    Conditioning condition(TextModel model, String prompt, String negativePrompt);

    /**
     * The conditioning for each part of a run of {@code steps} sampling steps, for prompts whose
     * text changes with the step (prompt editing, alternation): entries in order, the last one
     * ending at {@code steps}, every entry of the same shape. A conditioner without such syntax
     * need not override this: it gives {@link #condition} for the whole run.
     */
    default List<ScheduledConditioning> schedule(TextModel model, String prompt, String negativePrompt, int steps) {
        return List.of(new ScheduledConditioning(steps, condition(model, prompt, negativePrompt)));
    }

    /** How many tokens the prompt uses (without BOS/EOS), for the UI's live count. */
    int countTokens(TextModel model, String prompt);
}
