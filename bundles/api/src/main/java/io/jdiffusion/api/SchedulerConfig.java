package io.jdiffusion.api;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code scheduler/scheduler_config.json}, read the way diffusers reads it. Keys the
 * file leaves out take the default of the scheduler that reads them, so typed getters take that
 * default as an argument; the keys every diffusers scheduler shares have their common default.
 *
 * <p>{@link #alphasCumprod()} is computed in float32 with PyTorch's own operation order
 * ({@code linspace} in float32, {@code cumprod} accumulated in double and rounded per element),
 * so samplers built on it match diffusers to float32 precision.
 */
public final class SchedulerConfig {
    private final Map<String, Object> values;
    private float[] alphasCumprod;

    public SchedulerConfig(Map<String, Object> values) {
        this.values = Map.copyOf(withoutNulls(values));
        validate();
    }

    /** Stable Diffusion 1.5's shipped config ({@code scaled_linear} 0.00085 to 0.012, offset 1). */
    public static SchedulerConfig sd15() {
        Map<String, Object> m = new HashMap<>();
        m.put("_class_name", "PNDMScheduler");
        m.put("beta_start", 0.00085);
        m.put("beta_end", 0.012);
        m.put("beta_schedule", "scaled_linear");
        m.put("num_train_timesteps", 1000);
        m.put("steps_offset", 1);
        m.put("clip_sample", false);
        m.put("set_alpha_to_one", false);
        m.put("skip_prk_steps", true);
        m.put("prediction_type", "epsilon");
        return new SchedulerConfig(m);
    }

    /** A copy with some keys replaced (e.g. {@code prediction_type}). */
    public SchedulerConfig with(String key, Object value) {
        Map<String, Object> m = new HashMap<>(values);
        m.put(key, value);
        return new SchedulerConfig(m);
    }

    public Map<String, Object> values() {
        return values;
    }

    public int numTrainTimesteps() {
        return getInt("num_train_timesteps", 1000);
    }

    public double betaStart() {
        return getDouble("beta_start", 0.0001);
    }

    public double betaEnd() {
        return getDouble("beta_end", 0.02);
    }

    public String betaSchedule() {
        return getString("beta_schedule", "linear");
    }

    public int stepsOffset() {
        return getInt("steps_offset", 0);
    }

    public PredictionType predictionType() {
        return PredictionType.fromConfig(getString("prediction_type", "epsilon"));
    }

    /** {@code timestep_spacing}, or the reading scheduler's default when the file has none. */
    public String timestepSpacing(String schedulerDefault) {
        return getString("timestep_spacing", schedulerDefault);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public double getDouble(String key, double fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("scheduler_config.json: " + key + " must be a number, not " + v);
    }

    public int getInt(String key, int fallback) {
        return (int) getDouble(key, fallback);
    }

    public boolean getBoolean(String key, boolean fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("scheduler_config.json: " + key + " must be true or false, not " + v);
    }

    public String getString(String key, String fallback) {
        Object v = values.get(key);
        return v == null ? fallback : v.toString();
    }

    /** ᾱ_t for t = 0 .. numTrainTimesteps-1, float32 as diffusers holds them. Do not modify. */
    public synchronized float[] alphasCumprod() {
        if (alphasCumprod == null) {
            alphasCumprod = computeAlphasCumprod();
        }
        return alphasCumprod;
    }

    /** Betas as diffusers builds them (float32). */
    public float[] betas() {
        int n = numTrainTimesteps();
        Object trained = values.get("trained_betas");
        if (trained instanceof List<?> list && !list.isEmpty()) {
            float[] b = new float[list.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = ((Number) list.get(i)).floatValue();
            }
            return b;
        }
        switch (betaSchedule()) {
            case "linear":
                return linspaceFloat32((float) betaStart(), (float) betaEnd(), n);
            case "scaled_linear": {
                float[] b = linspaceFloat32((float) Math.sqrt(betaStart()), (float) Math.sqrt(betaEnd()), n);
                for (int i = 0; i < n; i++) {
                    b[i] = b[i] * b[i];
                }
                return b;
            }
            case "squaredcos_cap_v2": {
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    double t1 = (double) i / n;
                    double t2 = (double) (i + 1) / n;
                    b[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
                }
                return b;
            }
            default:
                throw new IllegalArgumentException("scheduler_config.json: beta_schedule must be linear, "
                        + "scaled_linear or squaredcos_cap_v2, not " + betaSchedule());
        }
    }

    private float[] computeAlphasCumprod() {
        float[] betas = betas();
        float[] out = new float[betas.length];
        double acc = 1.0; // torch's CPU cumprod accumulates float in double
        for (int i = 0; i < betas.length; i++) {
            float alpha = 1.0f - betas[i];
            acc *= alpha;
            out[i] = (float) acc;
        }
        if (getBoolean("rescale_betas_zero_snr", false)) {
            rescaleZeroTerminalSnr(out);
        }
        return out;
    }

    /** diffusers' rescale_zero_terminal_snr, applied to ᾱ directly (same result as on betas). */
    private static void rescaleZeroTerminalSnr(float[] ac) {
        int n = ac.length;
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.sqrt(ac[i]);
        }
        double s0 = s[0];
        double sT = s[n - 1];
        for (int i = 0; i < n; i++) {
            double v = (s[i] - sT) * s0 / (s0 - sT);
            ac[i] = (float) (v * v);
        }
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** {@code torch.linspace(start, end, n, dtype=float32)} on the CPU: from both ends towards the middle. */
    static float[] linspaceFloat32(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (n - i - 1);
        }
        return out;
    }

    private void validate() {
        if (numTrainTimesteps() < 2) {
            throw new IllegalArgumentException("scheduler_config.json: num_train_timesteps must be at least 2");
        }
        predictionType();
    }

    private static Map<String, Object> withoutNulls(Map<String, Object> in) {
        Map<String, Object> m = new HashMap<>();
        in.forEach((k, v) -> {
            if (v != null) {
                m.put(k, v);
            }
        });
        return m;
    }

    @Override
    public String toString() {
        return "SchedulerConfig" + values;
    }
}
