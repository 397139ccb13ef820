package io.jdiffusion.engine;

import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.service.InvalidRequestException;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

/** Range checks with messages that name the field and what is allowed. */
final class RequestValidator {
    static final int MIN_SIDE = 64;
    static final int MAX_SIDE = 2048;
    static final int MAX_STEPS = 150;
    static final double MAX_CFG = 30;
    static final int MAX_BATCH = 16;
    private static final BigInteger MAX_SEED = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final SecureRandom RANDOM = new SecureRandom();

    private RequestValidator() {
    }

    static int side(String field, Integer value, int fallback) {
        int v = value == null ? fallback : value;
        if (v < MIN_SIDE || v > MAX_SIDE || v % 64 != 0) {
            throw new InvalidRequestException(field, "must be a multiple of 64 from " + MIN_SIDE + " to " + MAX_SIDE
                    + ", got " + v);
        }
        return v;
    }

    static int steps(Integer value) {
        int v = value == null ? 20 : value;
        if (v < 1 || v > MAX_STEPS) {
            throw new InvalidRequestException("steps", "must be from 1 to " + MAX_STEPS + ", got " + v);
        }
        return v;
    }

    static double cfg(Double value) {
        double v = value == null ? 7.5 : value;
        if (!(v >= 0 && v <= MAX_CFG)) {
            throw new InvalidRequestException("cfg_scale", "must be from 0 to " + (int) MAX_CFG + ", got " + v);
        }
        return v;
    }

    static int batch(Integer value) {
        int v = value == null ? 1 : value;
        if (v < 1 || v > MAX_BATCH) {
            throw new InvalidRequestException("batch_size", "must be from 1 to " + MAX_BATCH + ", got " + v);
        }
        return v;
    }

    /** An unsigned 64-bit seed; absent, empty or -1 picks a random one (32-bit, as A1111 does). */
    static long seed(String value) {
        if (value == null || value.isBlank() || value.trim().equals("-1")) {
            return RANDOM.nextInt() & 0xffffffffL;
        }
        BigInteger b;
        try {
            b = new BigInteger(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("seed", "must be a whole number from 0 to " + MAX_SEED
                    + " (or -1 for random), got '" + value + "'");
        }
        if (b.signum() < 0 || b.compareTo(MAX_SEED) > 0) {
            throw new InvalidRequestException("seed", "must be from 0 to " + MAX_SEED + " (or -1 for random), got " + b);
        }
        return b.longValue();
    }

    /** A1111's largest Clip skip; the text encoder's layer count is checked when it is edited. */
    static final int MAX_CLIP_SKIP = 12;

    /** {@code clip_skip}: absent is 1 (the last layer); else a whole number 1..12, as A1111's setting. */
    static int clipSkip(Object value) {
        if (value == null) {
            return 1;
        }
        double d;
        if (value instanceof Number n) {
            d = n.doubleValue();
        } else {
            try {
                d = Double.parseDouble(value.toString().trim());
            } catch (NumberFormatException e) {
                d = Double.NaN;
            }
        }
        if (!(d >= 1 && d <= MAX_CLIP_SKIP) || d != Math.rint(d)) {
            throw new InvalidRequestException("clip_skip", "must be a whole number from 1 (the last layer) to "
                    + MAX_CLIP_SKIP + ", got '" + value + "'");
        }
        return (int) d;
    }

    /** Declared plugin parameters must be numbers inside their range. */
    static void params(String plugin, List<ParameterSpec> specs, Map<String, Object> params) {
        for (ParameterSpec spec : specs) {
            Object v = params.get(spec.name());
            if (v == null) {
                continue;
            }
            if (!(v instanceof Number n)) {
                throw new InvalidRequestException(spec.name(), "must be a number from " + spec.min() + " to "
                        + spec.max() + " (" + plugin + "), got '" + v + "'");
            }
            double d = n.doubleValue();
            if (!(d >= spec.min() && d <= spec.max())) {
                throw new InvalidRequestException(spec.name(), "must be from " + spec.min() + " to " + spec.max()
                        + " (" + plugin + "), got " + d);
            }
        }
    }
}
