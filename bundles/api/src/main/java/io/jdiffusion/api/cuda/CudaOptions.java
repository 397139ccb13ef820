package io.jdiffusion.api.cuda;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The CUDA execution provider options that matter for Stable Diffusion, validated once: the runtime checks
 * them on the command line ({@code --cuda-option key=value}) and passes them as framework properties
 * {@code sd.cuda.KEY}; the engine reads them back from there and hands them to ONNX Runtime's
 * {@code OrtCUDAProviderOptions}. Values are kept in the spelling ONNX Runtime expects, so that
 * {@link #values()} can be applied as they are.
 *
 * <ul>
 *   <li>{@code device_id}: which GPU, 0 or more (default 0);</li>
 *   <li>{@code gpu_mem_limit}: the arena's limit in bytes, a plain number or with a K, M, G or T suffix
 *       (powers of 1024), e.g. {@code 8G};</li>
 *   <li>{@code arena_extend_strategy}: {@code kNextPowerOfTwo} or {@code kSameAsRequested} (the latter
 *       wastes less memory on the large, odd-sized UNet activations);</li>
 *   <li>{@code cudnn_conv_algo_search}: {@code EXHAUSTIVE} (ONNX Runtime's default; slow first run, fastest
 *       convolutions), {@code HEURISTIC} or {@code DEFAULT}.</li>
 * </ul>
 */
public final class CudaOptions {
    /** Framework property prefix: {@code sd.cuda.cudnn_conv_algo_search=HEURISTIC}. */
    public static final String PROPERTY_PREFIX = "sd.cuda.";
    public static final String DEVICE_ID = "device_id";
    public static final String GPU_MEM_LIMIT = "gpu_mem_limit";
    public static final String ARENA_EXTEND_STRATEGY = "arena_extend_strategy";
    public static final String CUDNN_CONV_ALGO_SEARCH = "cudnn_conv_algo_search";
    /** Every option this class knows, in the order they are listed to a user. */
    public static final List<String> KEYS = List.of(DEVICE_ID, GPU_MEM_LIMIT, ARENA_EXTEND_STRATEGY, CUDNN_CONV_ALGO_SEARCH);
    static final List<String> ARENA_STRATEGIES = List.of("kNextPowerOfTwo", "kSameAsRequested");
    static final List<String> ALGO_SEARCHES = List.of("EXHAUSTIVE", "HEURISTIC", "DEFAULT");

    private static final CudaOptions NONE = new CudaOptions(Map.of());
    private final Map<String, String> values;

    private CudaOptions(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** No options: ONNX Runtime's defaults on device 0. */
    public static CudaOptions none() {
        return NONE;
    }

    /**
     * Checks and normalises options given as key to value.
     *
     * @throws IllegalArgumentException naming the option and what it allows
     */
    public static CudaOptions of(Map<String, String> raw) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String key = e.getKey() == null ? "" : e.getKey().trim();
            out.put(key, normalise(key, e.getValue() == null ? "" : e.getValue().trim()));
        }
        return new CudaOptions(out);
    }

    /** Parses {@code key=value} items (the command line's {@code --cuda-option} values). */
    public static CudaOptions parse(List<String> items) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("CUDA option '" + item + "' must be KEY=VALUE, KEY one of "
                        + String.join(", ", KEYS));
            }
            raw.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
        }
        return of(raw);
    }

    /** Reads {@code sd.cuda.KEY} for every known key; absent keys keep ONNX Runtime's default. */
    public static CudaOptions fromProperties(Function<String, String> properties) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (String key : KEYS) {
            String v = properties.apply(PROPERTY_PREFIX + key);
            if (v != null && !v.isBlank()) {
                raw.put(key, v);
            }
        }
        return of(raw);
    }

    /** The options in ONNX Runtime's spelling, for {@code OrtCUDAProviderOptions.add(key, value)}. */
    public Map<String, String> values() {
        return values;
    }

    /** The framework properties that carry these options ({@code sd.cuda.KEY}). */
    public Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        values.forEach((k, v) -> p.put(PROPERTY_PREFIX + k, v));
        return p;
    }

    /** The GPU to use (0 unless {@code device_id} says otherwise). */
    public int deviceId() {
        String v = values.get(DEVICE_ID);
        return v == null ? 0 : Integer.parseInt(v);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        values.forEach((k, v) -> s.append(s.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return s.toString();
    }

    /**
     * Why the CUDA provider did not load, in one line a person can act on. When ONNX Runtime cannot load
     * {@code libonnxruntime_providers_cuda.so} it says which library that one misses ({@code ... with error:
     * libcublasLt.so.12: cannot open shared object file}); that part is kept, without the temporary path and
     * the source location. Other failures keep their message on one line, cut at 300 characters.
     */
    public static String failureReason(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replaceAll("\\s+", " ").trim();
        java.util.regex.Matcher lib = java.util.regex.Pattern
                .compile("Failed to load library \\S*?([^/\\s]+\\.so[.0-9]*) with error: (.*)").matcher(m);
        if (lib.find()) {
            return "cannot load " + lib.group(1) + ": " + lib.group(2).trim()
                    + " (the CUDA provider needs CUDA 12 and cuDNN 9 libraries on the library path)";
        }
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }

    private static String normalise(String key, String value) {
        switch (key) {
            case DEVICE_ID -> {
                try {
                    int id = Integer.parseInt(value);
                    if (id >= 0) {
                        return Integer.toString(id);
                    }
                } catch (NumberFormatException e) {
                    // falls through to the error below
                }
                throw new IllegalArgumentException("CUDA option device_id must be a GPU index 0 or more, got '" + value + "'");
            }
            case GPU_MEM_LIMIT -> {
                return Long.toString(parseBytes(value));
            }
            case ARENA_EXTEND_STRATEGY -> {
                return oneOf(key, value, ARENA_STRATEGIES);
            }
            case CUDNN_CONV_ALGO_SEARCH -> {
                return oneOf(key, value, ALGO_SEARCHES);
            }
            default -> throw new IllegalArgumentException("unknown CUDA option '" + key + "'; known: " + String.join(", ", KEYS));
        }
    }

    /** Case-insensitive match, returned in ONNX Runtime's spelling. */
    private static String oneOf(String key, String value, List<String> allowed) {
        for (String a : allowed) {
            if (a.equalsIgnoreCase(value)) {
                return a;
            }
        }
        throw new IllegalArgumentException("CUDA option " + key + " must be one of " + String.join(", ", allowed)
                + ", got '" + value + "'");
    }

    /** {@code 8589934592}, {@code 8G}, {@code 512M}, {@code 1.5G}: bytes (K/M/G/T are powers of 1024). */
    static long parseBytes(String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        if (v.endsWith("IB")) {
            v = v.substring(0, v.length() - 2);
        } else if (v.endsWith("B") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2))) {
            v = v.substring(0, v.length() - 1);
        }
        long unit = 1;
        if (!v.isEmpty()) {
            int shift = "KMGT".indexOf(v.charAt(v.length() - 1));
            if (shift >= 0) {
                unit = 1L << (10 * (shift + 1));
                v = v.substring(0, v.length() - 1).trim();
            }
        }
        try {
            double n = Double.parseDouble(v);
            double bytes = n * unit;
            if (n > 0 && !Double.isInfinite(bytes) && bytes < Long.MAX_VALUE && !v.contains("E") && !v.contains("N")) {
                return (long) bytes;
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("CUDA option gpu_mem_limit must be a positive number of bytes, optionally"
                + " with a K, M, G or T suffix (e.g. 8G), got '" + value + "'");
    }
}
