package io.jdiffusion.toyworld;

import java.util.Objects;

/**
 * What kind of SD-shaped folder {@link ToyWorld#write} makes. {@link #defaults()} is SD 1.x-shaped.
 *
 * @param hiddenWidth    width W of the text states (768 for SD 1.x, 1024 for SD 2.x); at least 40
 * @param idsType        element type of the text encoder's {@code input_ids}
 * @param timestepType   element type of the UNet's {@code timestep}
 * @param predictionType "epsilon" or "v_prediction": what the UNet returns, also written to scheduler_config.json
 * @param seed           seed of the pseudo-random (non-feature) embedding values
 * @param unetVariant    which UNet: an ordinary one, a depth (5-channel) or an inpainting (9-channel) one
 * @param sampleSize     the UNet config's {@code sample_size} in latent cells (64: 512 px, 96: 768 px, 128: 1024 px)
 * @param architecture   SD (one text encoder) or SDXL (two text encoders, UNet inputs text_embeds + time_ids)
 * @param precision      FLOAT32, or FLOAT16: every graph takes and returns float16 (as real fp16 exports do)
 * @param weights        where the initializers live: inside model.onnx, or external data as diffusers' convert
 *                       script ({@code unet/weights.pb}) or Optimum ({@code model.onnx_data}) writes them
 */
public record ToyWorldOptions(int hiddenWidth, IdsType idsType, TimestepType timestepType, String predictionType,
                              long seed, UnetVariant unetVariant, int sampleSize, Architecture architecture,
                              Precision precision, WeightsLayout weights) {

    /** One text encoder (SD 1.x/2.x) or SDXL's two ({@code text_encoder} + {@code text_encoder_2}). */
    public enum Architecture { SD, SDXL }

    /** Element type of every graph's float inputs and outputs. */
    public enum Precision { FLOAT32, FLOAT16 }

    /**
     * Where initializers are stored. EMBEDDED: in model.onnx. WEIGHTS_PB: the UNet's in one {@code unet/weights.pb},
     * as diffusers' convert_stable_diffusion_checkpoint_to_onnx.py saves it. ONNX_DATA: {@code model.onnx_data} beside
     * the UNet's and the text encoders' model.onnx, as Optimum saves models over 2 GB.
     */
    public enum WeightsLayout { EMBEDDED, WEIGHTS_PB, ONNX_DATA }

    public enum IdsType { INT32, INT64 }

    /** The UNet's input channels beyond the 4 latent ones, as in diffusers' depth and inpainting UNets. */
    public enum UnetVariant {
        TXT2IMG(0), DEPTH(1), INPAINT(5);

        private final int extraChannels;

        UnetVariant(int extraChannels) {
            this.extraChannels = extraChannels;
        }

        public int extraChannels() {
            return extraChannels;
        }
    }

    public enum TimestepType { FLOAT, INT64 }

    public static final String EPSILON = "epsilon";
    public static final String V_PREDICTION = "v_prediction";

    /** The feature block plus a few free dims: the text encoder normalises every state with them. */
    public static final int MIN_HIDDEN_WIDTH = TextFeatures.FEATURE_DIMS + 8;

    public ToyWorldOptions {
        Objects.requireNonNull(idsType, "idsType");
        Objects.requireNonNull(timestepType, "timestepType");
        Objects.requireNonNull(predictionType, "predictionType");
        Objects.requireNonNull(unetVariant, "unetVariant");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(weights, "weights");
        if (sampleSize < 8 || sampleSize % 8 != 0)
            throw new IllegalArgumentException("sampleSize must be a positive multiple of 8, was " + sampleSize);
        if (hiddenWidth < MIN_HIDDEN_WIDTH)
            throw new IllegalArgumentException("hiddenWidth must be at least " + MIN_HIDDEN_WIDTH
                    + " (the feature block and room to normalise the states), was " + hiddenWidth);
        if (!predictionType.equals(EPSILON) && !predictionType.equals(V_PREDICTION))
            throw new IllegalArgumentException("predictionType must be epsilon or v_prediction, was " + predictionType);
    }

    /** The options before sample size, architecture, precision and weights layout existed (those at their defaults). */
    public ToyWorldOptions(int hiddenWidth, IdsType idsType, TimestepType timestepType, String predictionType,
                           long seed, UnetVariant unetVariant) {
        this(hiddenWidth, idsType, timestepType, predictionType, seed, unetVariant, 64, Architecture.SD,
                Precision.FLOAT32, WeightsLayout.EMBEDDED);
    }

    /** SD 1.x-shaped: W 768, int32 input_ids, float32 timestep [B], epsilon prediction, 512x512. */
    public static ToyWorldOptions defaults() {
        return new ToyWorldOptions(768, IdsType.INT32, TimestepType.FLOAT, EPSILON, 1234L, UnetVariant.TXT2IMG);
    }

    /** SD 2.x (768-v)-shaped: W 1024, v-prediction, sample_size 96 (768x768). */
    public static ToyWorldOptions sd2() {
        return builder().hiddenWidth(1024).predictionType(V_PREDICTION).sampleSize(96).build();
    }

    /**
     * SDXL-shaped as Optimum exports it: text_encoder 768 wide + text_encoder_2 {@value #XL_SECOND_WIDTH} wide
     * (cross_attention_dim 2048), sample_size 128 (1024x1024), int64 input_ids, VAE scaling factor 0.13025.
     */
    public static ToyWorldOptions sdxl() {
        return builder().architecture(Architecture.SDXL).hiddenWidth(768).sampleSize(128).idsType(IdsType.INT64).build();
    }

    /** Width of SDXL's second text encoder (OpenCLIP ViT-bigG), also its pooled {@code text_embeds}. */
    public static final int XL_SECOND_WIDTH = 1280;

    /** The UNet's cross_attention_dim: the text width, or both encoders' widths side by side for SDXL. */
    public int crossAttentionDim() {
        return architecture == Architecture.SDXL ? hiddenWidth + XL_SECOND_WIDTH : hiddenWidth;
    }

    public static Builder builder() {
        return new Builder(defaults());
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public ToyWorldOptions withHiddenWidth(int w) { return toBuilder().hiddenWidth(w).build(); }
    public ToyWorldOptions withIdsType(IdsType t) { return toBuilder().idsType(t).build(); }
    public ToyWorldOptions withTimestepType(TimestepType t) { return toBuilder().timestepType(t).build(); }
    public ToyWorldOptions withPredictionType(String p) { return toBuilder().predictionType(p).build(); }
    public ToyWorldOptions withUnetVariant(UnetVariant v) { return toBuilder().unetVariant(v).build(); }
    public ToyWorldOptions withSampleSize(int s) { return toBuilder().sampleSize(s).build(); }
    public ToyWorldOptions withPrecision(Precision p) { return toBuilder().precision(p).build(); }
    public ToyWorldOptions withWeights(WeightsLayout w) { return toBuilder().weights(w).build(); }

    /** A short stable string naming these options, for cache keys together with {@link ToyWorld#VERSION}. */
    public String key() {
        return "w" + hiddenWidth + "-" + idsType.name().toLowerCase() + "-t" + timestepType.name().toLowerCase()
                + "-" + predictionType + "-s" + seed
                + (unetVariant == UnetVariant.TXT2IMG ? "" : "-" + unetVariant.name().toLowerCase())
                + (sampleSize == 64 ? "" : "-ss" + sampleSize)
                + (architecture == Architecture.SD ? "" : "-" + architecture.name().toLowerCase())
                + (precision == Precision.FLOAT32 ? "" : "-fp16")
                + (weights == WeightsLayout.EMBEDDED ? "" : "-" + weights.name().toLowerCase().replace("_", ""));
    }

    public static final class Builder {
        private int hiddenWidth;
        private IdsType idsType;
        private TimestepType timestepType;
        private String predictionType;
        private long seed;
        private UnetVariant unetVariant;
        private int sampleSize;
        private Architecture architecture;
        private Precision precision;
        private WeightsLayout weights;

        private Builder(ToyWorldOptions o) {
            hiddenWidth = o.hiddenWidth;
            idsType = o.idsType;
            timestepType = o.timestepType;
            predictionType = o.predictionType;
            seed = o.seed;
            unetVariant = o.unetVariant;
            sampleSize = o.sampleSize;
            architecture = o.architecture;
            precision = o.precision;
            weights = o.weights;
        }

        public Builder hiddenWidth(int w) { hiddenWidth = w; return this; }
        public Builder idsType(IdsType t) { idsType = t; return this; }
        public Builder timestepType(TimestepType t) { timestepType = t; return this; }
        public Builder predictionType(String p) { predictionType = p; return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder unetVariant(UnetVariant v) { unetVariant = v; return this; }
        public Builder sampleSize(int s) { sampleSize = s; return this; }
        public Builder architecture(Architecture a) { architecture = a; return this; }
        public Builder precision(Precision p) { precision = p; return this; }
        public Builder weights(WeightsLayout w) { weights = w; return this; }

        public ToyWorldOptions build() {
            return new ToyWorldOptions(hiddenWidth, idsType, timestepType, predictionType, seed, unetVariant,
                    sampleSize, architecture, precision, weights);
        }
    }
}
