package io.jdiffusion.engine.pipeline;

/**
 * AUTOMATIC1111's parameters text ("infotext"), so images open with their settings in tools
 * that read it: prompt, optional negative prompt line, then "Key: value" pairs.
 */
final class Infotext {
    private Infotext() {
    }

    static String of(Job job, long seed) {
        StringBuilder b = new StringBuilder(job.prompt());
        if (!job.negativePrompt().isEmpty()) {
            b.append("\nNegative prompt: ").append(job.negativePrompt());
        }
        b.append("\nSteps: ").append(job.steps());
        b.append(", Sampler: ").append(job.sampler().label());
        if (job.schedule() != null) {
            b.append(", Schedule type: ").append(job.schedule().label());
        }
        b.append(", CFG scale: ").append(job.cfgScale());
        b.append(", Seed: ").append(Long.toUnsignedString(seed));
        b.append(", Size: ").append(job.width()).append('x').append(job.height());
        b.append(", Model: ").append(job.model().id());
        if (job.clipSkip() > 1) { // A1111 writes it only when it is not the default
            b.append(", Clip skip: ").append(job.clipSkip());
        }
        if (!"txt2img".equals(job.mode().plugin().id())) {
            b.append(", Mode: ").append(job.mode().plugin().label());
        }
        modeEntries(job).forEach((k, v) -> b.append(", ").append(k).append(": ").append(v));
        job.params().forEach((k, v) -> b.append(", ").append(k).append(": ").append(v));
        b.append(", RNG: ").append(job.noiseSource().equals("nv") ? "NV" : "CPU");
        return b.toString();
    }

    /** What the mode adds (img2img: {@code Denoising strength}); a failing plugin adds nothing. */
    static java.util.Map<String, String> modeEntries(Job job) {
        try {
            java.util.Map<String, String> m = job.mode().plugin().service().infotext(job.mode().inputs());
            return m == null ? java.util.Map.of() : m;
        } catch (RuntimeException e) {
            return java.util.Map.of();
        }
    }
}
