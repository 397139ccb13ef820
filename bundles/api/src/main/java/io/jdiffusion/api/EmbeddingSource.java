package io.jdiffusion.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Supplies textual-inversion embeddings by trigger word: each a {@code [vectors][width]} array.
 * Register as a service with {@link Plugin#NAME}; conditioners consult every source.
 */
public interface EmbeddingSource {
    Map<String, float[][]> embeddings();

    /**
     * One usable embedding.
     *
     * @param name     the trigger word (A1111: the file name without its extension)
     * @param variants its vectors, {@code [vectors][width]}, once per text-encoder width it was trained
     *                 for: one for SD 1.x / 2.x, two for SDXL ({@code clip_l} 768 and {@code clip_g} 1280)
     * @param file     where it came from (a file name), or null
     */
    record Embedding(String name, List<float[][]> variants, String file) {
        public Embedding {
            variants = List.copyOf(variants);
        }

        /** An embedding for one width. */
        public Embedding(String name, float[][] vectors, String file) {
            this(name, List.<float[][]>of(vectors), file);
        }

        /** The variant of {@code width}, or null when it was trained for other widths only. */
        public float[][] forWidth(int width) {
            for (float[][] v : variants) {
                if (v.length > 0 && v[0].length == width) {
                    return v;
                }
            }
            return null;
        }

        /** The widths it has vectors for, as "768" or "768, 1280" for messages. */
        public List<Integer> widths() {
            List<Integer> w = new ArrayList<>();
            variants.forEach(v -> w.add(v.length == 0 ? 0 : v[0].length));
            return w;
        }
    }

    /** A file the source could not use, and why (shown by {@code GET /api/v1/embeddings}). */
    record Skipped(String file, String reason) {
    }

    /**
     * Every usable embedding with all its variants. A source that knows only one width per word
     * need not override this: it wraps {@link #embeddings()}.
     */
    default List<Embedding> loaded() {
        List<Embedding> out = new ArrayList<>();
        embeddings().forEach((word, vectors) -> out.add(new Embedding(word, vectors, null)));
        return out;
    }

    /** Files that were found but could not be used, with the reason; none by default. */
    default List<Skipped> skipped() {
        return List.of();
    }
}
