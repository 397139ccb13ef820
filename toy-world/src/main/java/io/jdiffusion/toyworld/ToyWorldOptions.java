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
 */
public record ToyWorldOptions(int hiddenWidth, IdsType idsType, TimestepType timestepType, String predictionType,
                              long seed, UnetVariant unetVariant) {

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
        if (hiddenWidth < MIN_HIDDEN_WIDTH)
            throw new IllegalArgumentException("hiddenWidth must be at least " + MIN_HIDDEN_WIDTH
                    + " (the feature block and room to normalise the states), was " + hiddenWidth);
        if (!predictionType.equals(EPSILON) && !predictionType.equals(V_PREDICTION))
            throw new IllegalArgumentException("predictionType must be epsilon or v_prediction, was " + predictionType);
    }

    /** SD 1.x-shaped: W 768, int32 input_ids, float32 timestep [B], epsilon prediction. */
    public static ToyWorldOptions defaults() {
        return new ToyWorldOptions(768, IdsType.INT32, TimestepType.FLOAT, EPSILON, 1234L, UnetVariant.TXT2IMG);
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

    /** A short stable string naming these options, for cache keys together with {@link ToyWorld#VERSION}. */
    public String key() {
        return "w" + hiddenWidth + "-" + idsType.name().toLowerCase() + "-t" + timestepType.name().toLowerCase()
                + "-" + predictionType + "-s" + seed
                + (unetVariant == UnetVariant.TXT2IMG ? "" : "-" + unetVariant.name().toLowerCase());
    }

    public static final class Builder {
        private int hiddenWidth;
        private IdsType idsType;
        private TimestepType timestepType;
        private String predictionType;
        private long seed;
        private UnetVariant unetVariant;

        private Builder(ToyWorldOptions o) {
            hiddenWidth = o.hiddenWidth;
            idsType = o.idsType;
            timestepType = o.timestepType;
            predictionType = o.predictionType;
            seed = o.seed;
            unetVariant = o.unetVariant;
        }

        public Builder hiddenWidth(int w) { hiddenWidth = w; return this; }
        public Builder idsType(IdsType t) { idsType = t; return this; }
        public Builder timestepType(TimestepType t) { timestepType = t; return this; }
        public Builder predictionType(String p) { predictionType = p; return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder unetVariant(UnetVariant v) { unetVariant = v; return this; }

        public ToyWorldOptions build() {
            return new ToyWorldOptions(hiddenWidth, idsType, timestepType, predictionType, seed, unetVariant);
        }
    }
}
