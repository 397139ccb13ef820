package io.jdiffusion.api;

/**
 * A number a plugin reads from a request, declared so the API can validate it and the UI can
 * show a control for it.
 */
public record ParameterSpec(String name, double defaultValue, double min, double max, String help) {
}
