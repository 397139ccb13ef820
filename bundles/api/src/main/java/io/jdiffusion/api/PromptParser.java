package io.jdiffusion.api;

import java.util.List;

/**
 * A prompt syntax: what a prompt says beyond its words. Register as a service with
 * {@link Plugin#NAME}; a conditioner uses the parser of the name it is configured with
 * ({@link #DEFAULT} unless told otherwise), so another syntax can replace the built-in one.
 *
 * <p>Two questions, asked in this order: which text each sampling step conditions on
 * ({@link #schedule}: prompt editing, alternation), and how strongly each part of one such
 * text counts ({@link #weights}: emphasis, chunk breaks).
 */
public interface PromptParser {
    /** The name conditioners look for when nothing else is configured. */
    String DEFAULT = "a1111";

    /**
     * The texts a prompt expands into over a run of {@code steps} sampling steps, in order: each
     * applies while the step counter is at most {@link ScheduledPrompt#untilStep()}; the last one
     * ends at {@code steps}. A prompt without step syntax gives one entry. Never fails on bad
     * syntax: what cannot be parsed is taken literally.
     */
    List<ScheduledPrompt> schedule(String prompt, int steps);

    /**
     * The weighted pieces of one text of a schedule, in order, never empty: runs of text with the
     * multiplier their tokens get, and {@link WeightedText#BREAK} where a new chunk must start.
     * Never fails on bad syntax.
     */
    List<WeightedText> weights(String text);
}
