package io.jdiffusion.api;

/**
 * Service property keys every plugin service carries. The core finds plugins by these
 * properties, never by class.
 *
 * <pre>{@code @Component(property = {Plugin.NAME + "=euler", Plugin.LABEL + "=Euler"})}</pre>
 */
public final class Plugin {
    /** Stable id used in requests and files, e.g. {@code euler_a}. */
    public static final String NAME = "name";
    /** Human label as AUTOMATIC1111 shows it, e.g. {@code Euler a}. */
    public static final String LABEL = "label";
    /** Optional comma-separated extra names a request may use for the same service. */
    public static final String ALIASES = "aliases";

    private Plugin() {
    }
}
