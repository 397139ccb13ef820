package io.jdiffusion.api.service;

import java.util.List;
import java.util.Map;

/**
 * PNG files (parameters in their {@code parameters} text chunk) and the parameters used,
 * the seed of the first image included.
 */
public record GenerationResult(List<byte[]> images, Map<String, Object> info) {
}
