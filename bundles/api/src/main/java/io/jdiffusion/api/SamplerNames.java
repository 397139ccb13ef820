package io.jdiffusion.api;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads AUTOMATIC1111 sampler names that carry a noise schedule in their last word(s), as A1111
 * spelled them before it gave the schedule a field of its own: {@code "DPM++ 2M Karras"} is the
 * sampler {@code "DPM++ 2M"} on the {@code karras} schedule, {@code "DPM++ 2M SDE Exponential"} the
 * sampler {@code "DPM++ 2M SDE"} on {@code exponential}, and {@code "Euler a"} just the sampler.
 *
 * <p>Matching ignores case, and the suffix may be separated by spaces or underscores
 * ({@code "dpmpp_2m_karras"}). The sampler part is returned trimmed, in the caller's spelling, for
 * the caller to match against sampler ids and labels; the schedule is returned as the id a
 * {@link NoiseSchedule} service carries in {@link Plugin#NAME} ({@code karras}, {@code exponential},
 * or the snake-case id of another A1111 schedule type such as {@code sgm_uniform}). A name is never
 * split into an empty sampler, so {@code "Karras"} alone is a sampler name.
 */
public final class SamplerNames {
    /**
     * A1111 schedule-type labels, lower case, that may end a sampler name, with the schedule id they
     * mean. A1111's "DDIM" schedule type is left out on purpose: "DDIM" is a sampler.
     */
    public static final Map<String, String> SCHEDULE_SUFFIXES;

    private static final Pattern SPLIT;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        // longest first, so "sgm uniform" wins over "uniform"
        m.put("align your steps", "align_your_steps");
        m.put("polyexponential", "polyexponential");
        m.put("sgm uniform", "sgm_uniform");
        m.put("kl optimal", "kl_optimal");
        m.put("exponential", "exponential");
        m.put("karras", "karras");
        m.put("uniform", "uniform");
        m.put("simple", "simple");
        m.put("normal", "normal");
        m.put("beta", "beta");
        SCHEDULE_SUFFIXES = java.util.Collections.unmodifiableMap(m);
        StringBuilder alternatives = new StringBuilder();
        for (String label : m.keySet()) {
            if (alternatives.length() > 0) {
                alternatives.append('|');
            }
            alternatives.append(Pattern.quote(label).replace(" ", "\\E[\\s_]+\\Q"));
        }
        SPLIT = Pattern.compile("^(.*?\\S)[\\s_]+(" + alternatives + ")$",
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL);
    }

    private SamplerNames() {
    }

    /**
     * A sampler name and the schedule its label named.
     *
     * @param sampler  the sampler's id or label as given, trimmed (never empty)
     * @param schedule the {@link NoiseSchedule} id, or {@code null} when the label names none
     */
    public record Split(String sampler, String schedule) {
        public Split {
            Objects.requireNonNull(sampler, "sampler");
        }
    }

    /**
     * Splits a trailing schedule off {@code name}: {@code "DPM++ 2M Karras"} gives
     * {@code ("DPM++ 2M", "karras")}, {@code "Euler a"} gives {@code ("Euler a", null)}.
     *
     * @throws IllegalArgumentException for a null or blank name
     */
    public static Split split(String name) {
        return split(name, s -> false);
    }

    /**
     * As {@link #split(String)}, but a name that {@code isSampler} accepts whole is kept whole, so a
     * sampler whose own name ends in a schedule word is never taken apart.
     */
    public static Split split(String name, Predicate<String> isSampler) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("sampler name must not be empty");
        }
        String trimmed = name.strip();
        if (isSampler != null && isSampler.test(trimmed)) {
            return new Split(trimmed, null);
        }
        Matcher m = SPLIT.matcher(trimmed);
        if (m.matches()) {
            String suffix = m.group(2).toLowerCase(Locale.ROOT).replaceAll("[\\s_]+", " ");
            return new Split(m.group(1).strip(), SCHEDULE_SUFFIXES.get(suffix));
        }
        return new Split(trimmed, null);
    }

    /**
     * The schedule id of an A1111 schedule-type label ({@code "Karras"} gives {@code karras},
     * {@code "SGM Uniform"} gives {@code sgm_uniform}); {@code null} for a null or blank label and for
     * {@code "Automatic"} (the sampler's own spacing); any other label lower-cased with spaces as
     * underscores.
     */
    public static String scheduleId(String label) {
        if (label == null || label.isBlank()) {
            return null;
        }
        String key = label.strip().toLowerCase(Locale.ROOT).replaceAll("[\\s_]+", " ");
        if (key.equals("automatic") || key.equals("default")) {
            return null;
        }
        String id = SCHEDULE_SUFFIXES.get(key);
        return id != null ? id : key.replace(' ', '_');
    }
}
