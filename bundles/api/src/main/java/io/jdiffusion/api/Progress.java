package io.jdiffusion.api;

/**
 * Told after each sampler step. The engine may throw {@link java.util.concurrent.CancellationException}
 * from here to stop a run; samplers just let it propagate.
 */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> { };

    void step(int done, int total);
}
