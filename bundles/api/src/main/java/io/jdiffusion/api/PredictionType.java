package io.jdiffusion.api;

/** What the UNet predicts, as {@code prediction_type} in {@code scheduler_config.json} says. */
public enum PredictionType {
    EPSILON("epsilon"), V_PREDICTION("v_prediction"), SAMPLE("sample");

    private final String configName;

    PredictionType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static PredictionType fromConfig(String name) {
        for (PredictionType t : values()) {
            if (t.configName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("prediction_type must be epsilon, v_prediction or sample, not " + name);
    }
}
