package io.jdiffusion.engine.pipeline;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.model.XlConditioningInputs;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The UNet with classifier-free guidance, as a sampler sees it. With guidance the
 * unconditional and conditional passes run as one batch of 2 when the model allows a dynamic
 * batch (else as two calls); a scale of exactly 1 skips the unconditional pass.
 */
final class GuidedDenoiser implements Denoiser {
    private final OnnxModel model;
    private final List<ScheduledConditioning> schedule;
    private final double scale;
    private final int[] shape;
    /**
     * One UNet row, [latents | the mode's extra channels (depth, inpainting mask + masked latents)], the extra
     * channels copied in once: each call copies only the latents. Null without extra channels.
     */
    private final float[] row;
    /** Two rows for the guidance batch, built the same way; null when the passes run apart or unguided. */
    private final float[] batchedSample;
    /** Per conditioning, negative then positive as one UNet batch; made on first use. */
    private final Map<Conditioning, float[]> batchedHiddens = new IdentityHashMap<>();
    private Conditioning cond;
    private float[] batchedHidden;
    /** SDXL: time_ids for one row and for the guidance batch of 2, and the batch's text_embeds; else null. */
    private final float[] timeIds;
    private final float[] batchedTimeIds;
    private float[] batchedPooled;
    private int calls;

    GuidedDenoiser(OnnxModel model, Conditioning cond, double scale, int[] shape) {
        this(model, List.of(new ScheduledConditioning(Integer.MAX_VALUE, cond)), scale, shape, null);
    }

    /**
     * With a schedule (prompt editing, alternation) the conditioning follows the model-call count
     * as A1111's CFGDenoiser.step does: call c (from 0) uses the first entry with c <= untilStep.
     */
    GuidedDenoiser(OnnxModel model, List<ScheduledConditioning> schedule, double scale, int[] shape, float[] extra) {
        if (schedule.isEmpty()) {
            throw new IllegalArgumentException("empty conditioning schedule");
        }
        int plane = shape[2] * shape[3];
        int extraChannels = extra == null ? 0 : extra.length / plane;
        if (extra != null && extra.length % plane != 0 || extraChannels != model.unetExtraChannels()) {
            throw new IllegalArgumentException("the UNet of " + model.id() + " takes " + model.unetExtraChannels()
                    + " channels beyond the latents; the mode gave " + (extra == null ? 0 : extra.length) + " values");
        }
        this.model = model;
        this.schedule = List.copyOf(schedule);
        this.scale = scale;
        this.shape = shape.clone();
        float[] layout = concat(new float[shape[1] * plane], extra == null ? new float[0] : extra);
        row = extra == null ? null : layout;
        batchedSample = guided() && model.unetBatchesGuidance() ? concat(layout, layout) : null;
        int f = model.vaeFactor();
        timeIds = model.takesTextTimeInputs() ? XlConditioningInputs.timeIds(shape[2] * f, shape[3] * f) : null;
        batchedTimeIds = timeIds == null ? null : concat(timeIds, timeIds);
        use(0);
    }

    /**
     * The entry for the call about to be made. Past the last entry (samplers that call the model
     * more than once a step) A1111 falls back to the first entry, and so do we.
     */
    private int scheduled(int call) {
        for (int i = 0; i < schedule.size(); i++) {
            if (call <= schedule.get(i).untilStep()) {
                return i;
            }
        }
        return 0;
    }

    private void use(int entry) {
        Conditioning c = schedule.get(entry).conditioning();
        cond = c;
        if (batchedSample != null) {
            batchedHidden = batchedHiddens.computeIfAbsent(c, k -> concat(k.negative(), k.positive()));
            // the pooled rows go in the same order as the hidden states: negative, then positive
            batchedPooled = c.pooled() == null ? null : concat(c.negativePooled(), c.pooled());
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = new float[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private boolean guided() {
        return scale != 1.0;
    }

    @Override
    public int[] latentShape() {
        return shape.clone();
    }

    int calls() {
        return calls;
    }

    @Override
    public float[] predict(float[] modelInput, double timestep) {
        int entry = scheduled(calls);
        if (schedule.get(entry).conditioning() != cond) {
            use(entry);
        }
        int h = shape[2];
        int w = shape[3];
        int tokens = cond.tokens();
        calls++;
        int n = modelInput.length;
        if (!guided()) {
            return model.unet(oneRow(modelInput), 1, h, w, timestep, cond.positive(), tokens, cond.pooled(), timeIds);
        }
        float[] uncond;
        float[] text;
        int textOffset;
        if (batchedSample != null) {
            System.arraycopy(modelInput, 0, batchedSample, 0, n);
            System.arraycopy(modelInput, 0, batchedSample, batchedSample.length / 2, n);
            uncond = model.unet(batchedSample, 2, h, w, timestep, batchedHidden, tokens, batchedPooled, batchedTimeIds);
            text = uncond; // one output: unconditional rows first, then conditional
            textOffset = n;
        } else {
            float[] input = oneRow(modelInput);
            uncond = model.unet(input, 1, h, w, timestep, cond.negative(), tokens, cond.negativePooled(), timeIds);
            text = model.unet(input, 1, h, w, timestep, cond.positive(), tokens, cond.pooled(), timeIds);
            textOffset = 0;
        }
        // a fresh array: multistep samplers keep past model outputs
        float[] guided = new float[n];
        float g = (float) scale;
        for (int i = 0; i < n; i++) { // diffusers: uncond + scale * (text - uncond)
            float u = uncond[i];
            guided[i] = u + g * (text[textOffset + i] - u);
        }
        return guided;
    }

    /** The UNet input for one pass: the latents themselves, or copied into {@link #row} before the extra channels. */
    private float[] oneRow(float[] latents) {
        if (row == null) {
            return latents;
        }
        System.arraycopy(latents, 0, row, 0, latents.length);
        return row;
    }
}
