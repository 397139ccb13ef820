package io.jdiffusion.api.service;

import io.jdiffusion.api.ParameterSpec;
import java.util.List;

/** A registered plugin service as the API lists it. */
public record PluginDescription(String id, String label, String bundle, List<ParameterSpec> parameters) {
}
