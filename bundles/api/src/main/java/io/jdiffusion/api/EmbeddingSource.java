package io.jdiffusion.api;

import java.util.Map;

/**
 * Supplies textual-inversion embeddings by trigger word: each a {@code [vectors][width]} array.
 * Register as a service with {@link Plugin#NAME}; conditioners consult every source.
 */
public interface EmbeddingSource {
    Map<String, float[][]> embeddings();
}
