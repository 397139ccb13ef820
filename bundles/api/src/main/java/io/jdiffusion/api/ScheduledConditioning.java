package io.jdiffusion.api;

/**
 * One entry of a conditioning schedule (prompt editing, alternation): {@code conditioning} applies
 * while the denoiser's model-call counter (0-based, as A1111's {@code CFGDenoiser.step}) is at
 * most {@code untilStep} and above the previous entry's.
 */
public record ScheduledConditioning(int untilStep, Conditioning conditioning) {
    public ScheduledConditioning {
        if (conditioning == null) {
            throw new IllegalArgumentException("conditioning must not be null");
        }
    }
}
