package io.jdiffusion.engine.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.engine.onnx.Inputs;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A loaded model: one session per part, created once and reused for every request; closing
 * the model closes them. Inputs are made in the types the sessions declare.
 */
public final class OnnxModel implements AutoCloseable {
    private final ModelFolder folder;
    private final OnnxRuntime runtime;
    private final OrtEnvironment env;
    private final OrtSession textEncoder;
    private final OrtSession unet;
    private final OrtSession vaeDecoder;
    /** Opened on the first {@link #encode}: txt2img never needs it. Guarded by {@code this}. */
    private OrtSession vaeEncoder;
    /** The folder's depth_estimator, opened on first use (depth2img without a user depth map). Guarded by {@code this}. */
    private OrtSession depthSession;
    private io.jdiffusion.engine.depth.OnnxDepthEstimator depthEstimator;
    private final SchedulerConfig schedulerConfig;
    private final double scalingFactor;
    private final int hiddenWidth;
    private final int maxLength;
    private final int latentChannels;
    private final int unetInChannels;
    private final boolean unetBatchesGuidance;
    private final boolean textBatches;
    /** SDXL: the UNet takes text_embeds + time_ids; both text encoders are opened. Null otherwise. */
    private final OrtSession textEncoder2;
    private final TextModel xlText;
    /** The text encoder with embedding rows / a clip-skip output, rebuilt on demand. */
    private final TextEncoderVariants textVariants;
    /** SDXL: text_encoder_2 with embedding rows, rebuilt on demand (text_encoder's are {@link #textVariants}). */
    private final TextEncoderVariants xlVariants2;
    private volatile String family;

    public OnnxModel(ModelFolder folder, OnnxRuntime runtime) throws OrtException {
        this.folder = folder;
        this.runtime = runtime;
        this.env = runtime.env();
        this.schedulerConfig = folder.schedulerConfig();
        this.scalingFactor = folder.vaeScalingFactor();
        OrtSession te = null;
        OrtSession un = null;
        OrtSession vd = null;
        OrtSession te2 = null;
        TextModel xl = null;
        // both hold no session until a prompt uses an embedding
        TextEncoderVariants variants1 = new TextEncoderVariants(folder.part("text_encoder"), runtime);
        TextEncoderVariants variants2 = null;
        try {
            te = runtime.open(folder.part("text_encoder"));
            un = runtime.open(folder.part("unet"));
            vd = runtime.open(folder.part("vae_decoder"));
            if (XlConditioningInputs.isXl(un)) {
                if (!folder.hasPart("text_encoder_2")) {
                    throw new IllegalArgumentException("model folder " + folder.dir() + ": the UNet takes SDXL's"
                            + " text_embeds and time_ids, but text_encoder_2/model.onnx is missing");
                }
                te2 = runtime.open(folder.part("text_encoder_2"));
                variants2 = new TextEncoderVariants(folder.part("text_encoder_2"), runtime);
                xl = XlConditioningInputs.textModel(env, folder, te, te2, variants1, variants2);
            }
        } catch (OrtException | RuntimeException e) {
            closeQuietly(te, un, vd, te2);
            throw e;
        }
        this.textEncoder = te;
        this.unet = un;
        this.vaeDecoder = vd;
        this.textEncoder2 = te2;
        this.xlText = xl;

        long[] idsShape = Inputs.info(textEncoder, "input_ids").getShape();
        this.maxLength = idsShape.length == 2 && idsShape[1] > 0 ? (int) idsShape[1] : 77;
        this.textBatches = idsShape.length == 2 && idsShape[0] < 0;
        this.textVariants = variants1;
        this.xlVariants2 = variants2;
        long[] hs = Inputs.info(unet, "encoder_hidden_states").getShape();
        this.hiddenWidth = hs.length == 3 && hs[2] > 0 ? (int) hs[2]
                : xlText != null ? xlText.hiddenWidth() + xlText.secondEncoder().hiddenWidth() // SDXL: side by side
                : textWidthFromConfig();
        long[] sample = Inputs.info(unet, "sample").getShape();
        this.latentChannels = latentChannels(unet, vaeDecoder);
        this.unetInChannels = sample.length == 4 && sample[1] > 0 ? (int) sample[1]
                : configInChannels(folder, latentChannels);
        this.unetBatchesGuidance = sample.length == 4 && (sample[0] < 0 || sample[0] == 2);
    }

    /** The VAE's latent channels: the UNet's output channels, else the decoder's input channels, else 4. */
    private static int latentChannels(OrtSession unet, OrtSession vaeDecoder) {
        long[] out = Inputs.outputInfo(unet, "out_sample").getShape();
        if (out.length == 4 && out[1] > 0) {
            return (int) out[1];
        }
        long[] dec = Inputs.info(vaeDecoder, "latent_sample").getShape();
        return dec.length == 4 && dec[1] > 0 ? (int) dec[1] : 4;
    }

    private static int configInChannels(ModelFolder folder, int latentChannels) {
        Object c = folder.readJsonIfPresent("unet/config.json").get("in_channels");
        return c instanceof Number n ? n.intValue() : latentChannels;
    }

    private int textWidthFromConfig() {
        Object w = folder.readJsonIfPresent("text_encoder/config.json").get("hidden_size");
        if (w instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalStateException("cannot tell the text width of " + folder.dir()
                + ": encoder_hidden_states has no fixed last dimension and text_encoder/config.json no hidden_size");
    }

    public ModelFolder folder() {
        return folder;
    }

    public String id() {
        return folder.id();
    }

    public SchedulerConfig schedulerConfig() {
        return schedulerConfig;
    }

    public double scalingFactor() {
        return scalingFactor;
    }

    public int latentChannels() {
        return latentChannels;
    }

    /**
     * UNet input channels beyond the latents: 0 for an ordinary UNet, 1 for a depth UNet, 5 for an
     * inpainting UNet (mask + masked-image latents).
     */
    public int unetExtraChannels() {
        return unetInChannels - latentChannels;
    }

    public int vaeFactor() {
        return folder.vaeFactor();
    }

    public int hiddenWidth() {
        return hiddenWidth;
    }

    /** Default image side in pixels: the UNet's sample_size times the VAE factor. */
    public int defaultResolution() {
        return folder.unetSampleSize() * folder.vaeFactor();
    }

    /** Whether unconditional and conditional passes can go through the UNet as one batch of 2. */
    public boolean unetBatchesGuidance() {
        return unetBatchesGuidance;
    }

    /** The element type the UNet's {@code sample} input declares: float16 for half exports, else float32. */
    public String unetDtype() {
        return Inputs.info(unet, "sample").type == OnnxJavaType.FLOAT16 ? "float16" : "float32";
    }

    public TextModel textModel() {
        if (xlText != null) {
            return xlText; // SDXL: both encoders, penultimate hidden states, pooled text_embeds
        }
        return new PlainTextModel(folder.tokenizerDir(), maxLength, hiddenWidth, this::encodeText);
    }

    /**
     * The text side for a request with {@code clipSkip} (1: the last layer): it also takes extra token
     * rows (textual inversion), for which the text encoder is rebuilt ({@link TextEncoderVariants}).
     */
    public TextModel textModel(int requestedClipSkip) {
        if (requestedClipSkip < 1) {
            throw new io.jdiffusion.api.service.InvalidRequestException("clip_skip",
                    "must be a whole number from 1 (the last layer) up, got " + requestedClipSkip);
        }
        // A1111 applies its "Clip skip" to SD 1.x's CLIP only: SD 2.x's OpenCLIP already uses its penultimate
        // layer (the ONNX export stops there) and SDXL takes fixed layers, so there the setting changes nothing
        if (xlText != null) {
            // SDXL's text side (two encoders, pooled text_embeds) takes no clip skip (as A1111); each encoder takes
            // its own textual-inversion rows (clip_l / clip_g), rebuilding its graph (textVariants / xlVariants2)
            return xlText;
        }
        String family = family();
        int clipSkip = family.equals("sd2") ? 1 : requestedClipSkip;
        TextModel base = textModel();
        return new TextModel() {
            @Override
            public Path tokenizerDir() {
                return base.tokenizerDir();
            }

            @Override
            public int maxLength() {
                return base.maxLength();
            }

            @Override
            public int hiddenWidth() {
                return base.hiddenWidth();
            }

            @Override
            public int clipSkip() {
                return clipSkip;
            }

            @Override
            public int vocabularySize() {
                return textVariants.vocabularySize();
            }

            @Override
            public float[] encode(long[] ids, int sequences) {
                return encode(ids, sequences, new float[0][]);
            }

            @Override
            public float[] encode(long[] ids, int sequences, float[][] extraRows) {
                if (clipSkip == 1 && (extraRows == null || extraRows.length == 0)) {
                    return base.encode(ids, sequences);
                }
                return textVariants.with(clipSkip, extraRows == null ? new float[0][] : extraRows,
                        v -> encodeText(v.session(), v.output(), ids, sequences));
            }
        };
    }

    private float[] encodeText(long[] ids, int sequences) {
        return encodeText(textEncoder, "last_hidden_state", ids, sequences);
    }

    /** sd1, sd2, sdxl, custom or unknown, from the configs and the loaded graphs; read once. */
    private String family() {
        String f = family;
        if (f == null) {
            family = f = ModelFamily.detect(this).family();
        }
        return f;
    }

    private float[] encodeText(OrtSession textEncoder, String output, long[] ids, int sequences) {
        if (ids.length != (long) sequences * maxLength) {
            throw new IllegalArgumentException("expected " + sequences + " x " + maxLength + " ids, got " + ids.length);
        }
        if (!textBatches && sequences > 1) { // fixed batch of 1: one sequence at a time
            float[] out = new float[sequences * maxLength * hiddenWidth];
            for (int s = 0; s < sequences; s++) {
                long[] one = java.util.Arrays.copyOfRange(ids, s * maxLength, (s + 1) * maxLength);
                float[] h = encodeText(textEncoder, output, one, 1);
                System.arraycopy(h, 0, out, s * h.length, h.length);
            }
            return out;
        }
        OnnxJavaType idsType = Inputs.type(textEncoder, "input_ids");
        try (OnnxTensor input = Inputs.ids(env, idsType, ids, new long[] {sequences, maxLength});
             OrtSession.Result r = textEncoder.run(Map.of("input_ids", input))) {
            float[] h = Inputs.readFloats(Inputs.output(r, output));
            if (h.length != sequences * maxLength * hiddenWidth) {
                throw new IllegalStateException("text encoder returned " + h.length + " values, expected "
                        + sequences + "x" + maxLength + "x" + hiddenWidth);
            }
            return h;
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder failed: " + e.getMessage(), e);
        }
    }

    /**
     * One UNet call.
     *
     * @param sample   {@code [batch, latent + extra channels, h, w]}
     * @param timestep the timestep for every batch row
     * @param hidden   {@code [batch, tokens, width]}
     */
    public float[] unet(float[] sample, int batch, int h, int w, double timestep, float[] hidden, int tokens) {
        return unet(sample, batch, h, w, timestep, hidden, tokens, null, null);
    }

    /** Whether the UNet takes SDXL's added conditioning ({@code text_embeds}, {@code time_ids}). */
    public boolean takesTextTimeInputs() {
        return xlText != null;
    }

    /**
     * One UNet call of an SDXL UNet, which also takes {@code textEmbeds} {@code [batch, pooled width]} and
     * {@code timeIds} {@code [batch, 6]} (ignored, and allowed null, for other UNets).
     */
    public float[] unet(float[] sample, int batch, int h, int w, double timestep, float[] hidden, int tokens,
                        float[] textEmbeds, float[] timeIds) {
        if (xlText != null && (textEmbeds == null || timeIds == null)) {
            throw new IllegalStateException("the UNet of " + id() + " is SDXL's and needs text_embeds and time_ids;"
                    + " the text conditioner gave no pooled text vector");
        }
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        try {
            in.put("sample", Inputs.floats(env, Inputs.type(unet, "sample"), sample,
                    new long[] {batch, unetInChannels, h, w}));
            in.put("timestep", timestepTensor(batch, timestep));
            in.put("encoder_hidden_states", Inputs.floats(env, Inputs.type(unet, "encoder_hidden_states"), hidden,
                    new long[] {batch, tokens, hiddenWidth}));
            if (xlText != null) {
                in.put("text_embeds", Inputs.floats(env, Inputs.type(unet, "text_embeds"), textEmbeds,
                        new long[] {batch, textEmbeds.length / batch}));
                in.put("time_ids", Inputs.floats(env, Inputs.type(unet, "time_ids"), timeIds,
                        new long[] {batch, timeIds.length / batch}));
            }
            try (OrtSession.Result r = unet.run(in)) {
                return Inputs.readFloats(Inputs.output(r, "out_sample"));
            }
        } catch (OrtException e) {
            throw new IllegalStateException("UNet failed: " + e.getMessage(), e);
        } finally {
            Inputs.closeAll(in);
        }
    }

    /** The timestep in the declared type and shape: scalar, [1] or [batch]. */
    private OnnxTensor timestepTensor(int batch, double t) throws OrtException {
        TensorInfo info = Inputs.info(unet, "timestep");
        long[] declared = info.getShape();
        long[] shape;
        if (declared.length == 0) {
            shape = new long[0];
        } else if (declared[0] == 1) {
            shape = new long[] {1};
        } else {
            shape = new long[] {batch};
        }
        int n = shape.length == 0 ? 1 : (int) shape[0];
        float[] values = new float[n];
        java.util.Arrays.fill(values, (float) t);
        if (info.type == OnnxJavaType.INT64 || info.type == OnnxJavaType.INT32) {
            long[] l = new long[n];
            java.util.Arrays.fill(l, (long) t);
            return Inputs.ids(env, info.type, l, shape);
        }
        if (info.type == OnnxJavaType.DOUBLE) {
            double[] d = new double[n];
            java.util.Arrays.fill(d, t);
            return OnnxTensor.createTensor(env, java.nio.DoubleBuffer.wrap(d), shape);
        }
        return Inputs.floats(env, info.type, values, shape);
    }

    /**
     * VAE decode of one image's final latents (sampler space): divides by the scaling factor,
     * decodes, and returns RGB in [0,1], {@code [3, h*f, w*f]}.
     */
    public float[] decode(float[] latents, int h, int w) {
        float[] scaled = new float[latents.length];
        float inv = (float) (1.0 / scalingFactor);
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = latents[i] * inv;
        }
        try (OnnxTensor in = Inputs.floats(env, Inputs.type(vaeDecoder, "latent_sample"), scaled,
                new long[] {1, latentChannels, h, w});
             OrtSession.Result r = vaeDecoder.run(Map.of("latent_sample", in))) {
            float[] img = Inputs.readFloats(Inputs.output(r, "sample"));
            for (int i = 0; i < img.length; i++) {
                float v = img[i] / 2f + 0.5f;
                img[i] = v < 0f ? 0f : (v > 1f ? 1f : v);
            }
            return img;
        } catch (OrtException e) {
            throw new IllegalStateException("VAE decoder failed: " + e.getMessage(), e);
        }
    }

    /**
     * The VAE encoder's posterior for one image, unscaled: {@code mean} {@code [1, channels, h/f, w/f]} and,
     * where the encoder gives the log-variance too (Optimum's {@code latent_parameters}, {@code 2 x channels}),
     * {@code std} = exp(logvar / 2) with logvar clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution;
     * null for an encoder that returns latents alone (diffusers' convert script samples inside the graph).
     */
    public record LatentDistribution(float[] mean, float[] std) {
    }

    /** VAE encode of one image: RGB in [0,1] {@code [3, height, width]} to its latent distribution. */
    public LatentDistribution encodeDistribution(float[] rgb, int height, int width) {
        if (rgb.length != 3 * height * width) {
            throw new IllegalArgumentException("expected 3 x " + height + " x " + width + " values, got " + rgb.length);
        }
        float[] x = new float[rgb.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = rgb[i] * 2f - 1f;
        }
        OrtSession session = vaeEncoder();
        int n = latentChannels * (height / vaeFactor()) * (width / vaeFactor());
        try (OnnxTensor in = Inputs.floats(env, Inputs.type(session, "sample"), x, new long[] {1, 3, height, width});
             OrtSession.Result r = session.run(Map.of("sample", in))) {
            float[] z = Inputs.readFloats(Inputs.output(r, "latent_sample"));
            if (z.length != n && z.length != 2 * n) {
                throw new IllegalStateException("VAE encoder returned " + z.length + " values, expected " + n);
            }
            float[] mean = java.util.Arrays.copyOf(z, n);
            if (z.length == n) {
                return new LatentDistribution(mean, null);
            }
            float[] std = new float[n];
            for (int i = 0; i < n; i++) { // [mean, logvar] along the channels
                float logvar = Math.max(-30f, Math.min(20f, z[n + i]));
                std[i] = (float) Math.exp(0.5f * logvar);
            }
            return new LatentDistribution(mean, std);
        } catch (OrtException e) {
            throw new IllegalStateException("VAE encoder failed: " + e.getMessage(), e);
        }
    }

    /**
     * Start latents from a posterior, times the scaling factor: a sample {@code mean + std * randn} drawn from
     * {@code noise} where the distribution has a std (diffusers' {@code latent_dist.sample(generator)}), else
     * the encoder's latents as they are.
     */
    public float[] latents(LatentDistribution d, io.jdiffusion.api.NoiseSource noise) {
        float sf = (float) scalingFactor;
        float[] out = new float[d.mean().length];
        float[] eps = d.std() == null ? null : noise.randn(out.length);
        for (int i = 0; i < out.length; i++) {
            float z = eps == null ? d.mean()[i] : d.mean()[i] + d.std()[i] * eps[i];
            out[i] = z * sf;
        }
        return out;
    }

    /**
     * VAE encode of one image to latents in sampler space (times the scaling factor) without drawing noise:
     * the posterior's mean where the encoder gives a distribution.
     */
    public float[] encode(float[] rgb, int height, int width) {
        LatentDistribution d = encodeDistribution(rgb, height, width);
        return latents(new LatentDistribution(d.mean(), null), null);
    }

    private synchronized OrtSession vaeEncoder() {
        if (vaeEncoder == null) {
            if (!folder.hasPart("vae_encoder")) {
                throw new io.jdiffusion.api.service.InvalidRequestException("model", "model " + id()
                        + " has no vae_encoder/model.onnx, so it cannot take an input image");
            }
            try {
                vaeEncoder = runtime.open(folder.part("vae_encoder"));
            } catch (OrtException e) {
                throw new IllegalStateException("cannot open the VAE encoder of " + id() + ": " + e.getMessage(), e);
            }
        }
        return vaeEncoder;
    }

    /**
     * The model folder's depth estimator ({@code depth_estimator/model.onnx} with
     * {@code feature_extractor/preprocessor_config.json}, as Stable Diffusion 2 depth ships them), opened on first
     * use; null when the folder has none.
     */
    public synchronized io.jdiffusion.api.DepthEstimator depthEstimator() {
        if (depthEstimator == null && folder.hasPart(io.jdiffusion.engine.depth.OnnxDepthEstimator.PART)) {
            try {
                depthSession = runtime.open(folder.part(io.jdiffusion.engine.depth.OnnxDepthEstimator.PART));
            } catch (OrtException e) {
                throw new IllegalStateException("cannot open the depth estimator of " + id() + ": " + e.getMessage(), e);
            }
            depthEstimator = new io.jdiffusion.engine.depth.OnnxDepthEstimator(env, depthSession,
                    io.jdiffusion.engine.depth.DptPreprocessor.fromConfig(
                            folder.readJsonIfPresent(io.jdiffusion.engine.depth.OnnxDepthEstimator.PREPROCESSOR_CONFIG)));
        }
        return depthEstimator;
    }

    public OnnxRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        OrtSession enc;
        OrtSession depth;
        synchronized (this) {
            enc = vaeEncoder;
            vaeEncoder = null;
            depth = depthSession;
            depthSession = null;
            depthEstimator = null;
        }
        closeQuietly(textEncoder, unet, vaeDecoder, enc, depth, textEncoder2);
        textVariants.close();
        if (xlVariants2 != null) {
            xlVariants2.close();
        }
    }

    private static void closeQuietly(OrtSession... sessions) {
        for (OrtSession s : sessions) {
            if (s != null) {
                try {
                    s.close();
                } catch (OrtException ignored) {
                    // closing is best effort
                }
            }
        }
    }
}
