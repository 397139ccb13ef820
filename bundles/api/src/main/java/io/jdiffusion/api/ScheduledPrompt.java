package io.jdiffusion.api;

/**
 * One entry of a prompt schedule: {@code text} conditions the model while the step counter is
 * at most {@code untilStep} (and above the previous entry's).
 */
public record ScheduledPrompt(int untilStep, String text) {
    public ScheduledPrompt {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
    }
}
