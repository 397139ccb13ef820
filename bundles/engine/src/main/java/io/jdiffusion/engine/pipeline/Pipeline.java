package io.jdiffusion.engine.pipeline;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.engine.model.OnnxModel;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The walk of one request, top to bottom: conditioning -> for each image: seeded start latents
 * (mode) -> sampler loop over the guided UNet -> VAE decode -> PNG with its parameters.
 * Each image of a batch has its own generator seeded with seed + i, so any image of a batch
 * can be made again alone.
 */
public final class Pipeline {
    private Pipeline() {
    }

    public static GenerationResult run(Job job, Progress progress) {
        return run(job, progress, null);
    }

    /**
     * @param depthFallback the depth estimator a mode gets when the model folder has none (one a plugin
     *                      registered), or null
     */
    public static GenerationResult run(Job job, Progress progress, io.jdiffusion.api.DepthEstimator depthFallback) {
        OnnxModel model = job.model();
        int f = model.vaeFactor();
        int[] shape = {1, model.latentChannels(), job.height() / f, job.width() / f};
        // one entry per stretch of model calls with the same text (prompt editing, alternation)
        io.jdiffusion.api.TextModel text = model.textModel(job.clipSkip());
        if (text.clipSkip() != job.clipSkip()) {
            job = job.withClipSkip(text.clipSkip()); // the infotext says what was applied
        }
        List<ScheduledConditioning> cond = job.conditioner().service().schedule(text, job.prompt(),
                job.negativePrompt(), job.steps());
        Sampler sampler = job.sampler().service();
        SamplerSettings settings = new SamplerSettings(job.schedule() == null ? null : job.schedule().service(),
                job.params());
        SamplerPlan plan = sampler.plan(model.schedulerConfig(), job.steps(), settings);

        List<byte[]> images = new ArrayList<>();
        List<String> infotexts = new ArrayList<>();
        List<Object> seeds = new ArrayList<>();
        int total = job.batchSize() * plan.steps();
        // the images of a batch share their input images: each is VAE-encoded once (the encoder is deterministic;
        // a sample from its distribution is drawn per image, from that image's generator)
        Map<io.jdiffusion.api.RgbImage, OnnxModel.LatentDistribution> encoded = new java.util.IdentityHashMap<>();
        for (int i = 0; i < job.batchSize(); i++) {
            long seed = job.seed() + i;
            NoiseSource noise = io.jdiffusion.engine.NoiseSources.create(job.noiseSource(), seed);
            int offset = i * plan.steps();
            Progress imageProgress = (done, steps) -> progress.step(offset + done, total);
            GenerationMode.ModeStart start = job.mode().plugin().service().start(
                    new Context(sampler, plan, shape, noise, job.mode().inputs(), model, encoded, depthFallback));
            GenerationMode.ImageHooks hooks = start.hooks() == null ? new GenerationMode.ImageHooks() { } : start.hooks();
            float[] latents = start.latents();
            if (start.startStep() < plan.steps()) { // startStep == steps: nothing to denoise (img2img strength 0)
                io.jdiffusion.api.Denoiser denoiser = hooks.denoiser(
                        new GuidedDenoiser(model, cond, job.cfgScale(), shape, start.unetExtra()));
                latents = sampler.sample(denoiser, latents, plan, start.startStep(), noise, imageProgress);
            }
            float[] rgb = hooks.finish(model.decode(latents, shape[2], shape[3]));
            String infotext = Infotext.of(job, seed);
            images.add(PngEncoder.encode(rgb, job.width(), job.height(), infotext));
            infotexts.add(infotext);
            seeds.add(unsigned(seed));
        }
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("mode", job.mode().plugin().id());
        info.put("prompt", job.prompt());
        info.put("negative_prompt", job.negativePrompt());
        info.put("sampler", job.sampler().id());
        info.put("sampler_label", job.sampler().label());
        info.put("schedule", job.schedule() == null ? "default" : job.schedule().id());
        info.put("steps", job.steps());
        info.put("cfg_scale", job.cfgScale());
        info.put("seed", seeds.get(0));
        info.put("seeds", seeds);
        info.put("width", job.width());
        info.put("height", job.height());
        info.put("batch_size", job.batchSize());
        info.put("model", model.id());
        info.put("noise_source", job.noiseSource());
        info.put("params", job.params());
        Map<String, String> modeInfo = Infotext.modeEntries(job);
        if (!modeInfo.isEmpty()) {
            info.put("mode_params", modeInfo);
        }
        info.put("infotext", infotexts.get(0));
        info.put("infotexts", infotexts);
        return new GenerationResult(images, info);
    }

    static Object unsigned(long seed) {
        return seed >= 0 ? (Object) seed : new BigInteger(Long.toUnsignedString(seed));
    }

    private record Context(Sampler sampler, SamplerPlan plan, int[] latentShape, NoiseSource noise,
                           Map<String, Object> inputs, OnnxModel model,
                           Map<io.jdiffusion.api.RgbImage, OnnxModel.LatentDistribution> encoded,
                           io.jdiffusion.api.DepthEstimator depthFallback) implements GenerationMode.ModeContext {
        @Override
        public io.jdiffusion.api.DepthEstimator depthEstimator() {
            io.jdiffusion.api.DepthEstimator own = model.depthEstimator();
            return own != null ? own : depthFallback;
        }

        @Override
        public int unetExtraChannels() {
            return model.unetExtraChannels();
        }

        @Override
        public float[] encodeImage(io.jdiffusion.api.RgbImage image) {
            int f = model.vaeFactor();
            if (image.width() != latentShape[3] * f || image.height() != latentShape[2] * f) {
                throw new IllegalArgumentException("image is " + image.width() + "x" + image.height()
                        + ", the request " + latentShape[3] * f + "x" + latentShape[2] * f);
            }
            OnnxModel.LatentDistribution d = encoded.computeIfAbsent(image,
                    i -> model.encodeDistribution(i.rgb(), i.height(), i.width()));
            return model.latents(d, noise);
        }
    }
}
