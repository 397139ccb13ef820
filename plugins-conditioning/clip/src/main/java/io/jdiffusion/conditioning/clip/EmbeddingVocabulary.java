package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.EmbeddingSource;
import io.jdiffusion.api.EmbeddingSource.Embedding;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.api.service.InvalidRequestException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Textual-inversion embeddings as a conditioner uses them (A1111's {@code EmbeddingDatabase}): the
 * trigger word's tokens in a prompt, as the bare word ({@code my-thing}) or InvokeAI's {@code <my-thing>},
 * are replaced by one new token id per vector. The ids follow the text encoder's vocabulary, and the
 * vectors become the extra rows of its token table ({@link TextModel#encode(long[], int, float[][])}).
 * Every embedding made for the model gets ids, in name order, so the rows (and the rebuilt encoder)
 * stay the same from one request to the next while the folder does not change.
 * <p>
 * Made for the model means as A1111's {@code EmbeddingDatabase} decides it: the embedding's widths summed equal the
 * model's (768 for SD 1.x, 1024 for SD 2.x, 768 + 1280 for SDXL, whose files hold {@code clip_l} and
 * {@code clip_g}). So an SD 1.x embedding does not work on SDXL, nor an SDXL pair on SD 1.x (A1111 skips both;
 * here a prompt naming one is a 400 that names both widths). On SDXL each encoder takes its own vectors, and both
 * encoders' vocabularies give the same ids, the pair having the same number of vectors in each.
 */
final class EmbeddingVocabulary {
    static final EmbeddingVocabulary NONE = new EmbeddingVocabulary(List.of(), Map.of(), null);

    /** A trigger: its token sequence, and the embedding it stands for. */
    private record Trigger(long[] tokens, String name) {
    }

    private final List<Trigger> triggers;           // longest first
    private final Map<String, Embedding> byName;
    private final TextModel model;
    private final int width;
    private final List<Integer> modelWidths;
    private int firstId = -1;
    private boolean assigned;
    private final Map<String, Long> ids = new LinkedHashMap<>();
    private final List<float[]> rows = new ArrayList<>();
    private final Map<Long, Integer> lengths = new HashMap<>();
    private boolean used;

    private EmbeddingVocabulary(List<Trigger> triggers, Map<String, Embedding> byName, TextModel model) {
        this.triggers = triggers;
        this.byName = byName;
        this.model = model;
        this.width = model == null ? 0 : model.hiddenWidth();
        this.modelWidths = model == null ? List.of() : encoderWidths(model);
    }

    /** The widths of the model's text encoders: both of SDXL's, as a part of it also knows them. */
    static List<Integer> encoderWidths(TextModel model) {
        if (model instanceof XlConditioning.Part part) {
            return part.encoderWidths();
        }
        TextModel second = model.secondEncoder();
        return second == null ? List.of(model.hiddenWidth()) : List.of(model.hiddenWidth(), second.hiddenWidth());
    }

    /** This encoder's vectors of {@code e}, or null when it was not made for this model (see the class comment). */
    private float[][] vectorsFor(Embedding e) {
        List<Integer> have = new ArrayList<>(e.widths());
        List<Integer> want = new ArrayList<>(modelWidths);
        have.sort(null);
        want.sort(null);
        if (!have.equals(want)) {
            return null;
        }
        float[][] mine = e.forWidth(width);
        for (float[][] v : e.variants()) {
            if (mine == null || v.length != mine.length) { // clip_l and clip_g must give the same ids
                return null;
            }
        }
        return mine;
    }

    static EmbeddingVocabulary of(List<EmbeddingSource> sources, ClipTokenizer tokenizer, TextModel model) {
        Map<String, Embedding> byName = new TreeMap<>();
        for (EmbeddingSource s : sources) {
            try {
                for (Embedding e : s.loaded()) {
                    byName.putIfAbsent(e.name(), e);
                }
            } catch (RuntimeException e) {
                // a failing source offers nothing; the others still work
            }
        }
        if (byName.isEmpty()) {
            return NONE;
        }
        List<Trigger> triggers = new ArrayList<>();
        for (String name : byName.keySet()) {
            for (String form : List.of(name, "<" + name + ">")) {
                long[] t = tokenizer.contentIds(form).stream().mapToLong(Integer::longValue).toArray();
                if (t.length > 0) {
                    triggers.add(new Trigger(t, name));
                }
            }
        }
        triggers.sort(Comparator.comparingInt((Trigger t) -> -t.tokens().length));
        return new EmbeddingVocabulary(triggers, byName, model);
    }

    /**
     * Gives every embedding of the model's width its ids, from the vocabulary size on; done at the first
     * trigger word, so a prompt without one never makes the model read its table size.
     */
    private void assign() {
        if (assigned) {
            return;
        }
        assigned = true;
        firstId = model.vocabularySize();
        long next = firstId;
        for (Embedding e : byName.values()) {
            float[][] vectors = vectorsFor(e);
            if (vectors == null || firstId < 0) {
                continue;
            }
            ids.put(e.name(), next);
            lengths.put(next, vectors.length);
            rows.addAll(Arrays.asList(vectors));
            next += vectors.length;
        }
    }

    /** A prompt piece's token ids with every trigger replaced by its embedding's ids. */
    long[] substitute(long[] tokens) {
        if (triggers.isEmpty()) {
            return tokens;
        }
        List<Long> out = new ArrayList<>(tokens.length);
        int i = 0;
        while (i < tokens.length) {
            Trigger hit = match(tokens, i);
            if (hit == null) {
                out.add(tokens[i++]);
                continue;
            }
            assign();
            Long first = ids.get(hit.name());
            if (first == null) {
                throw unusable(byName.get(hit.name()));
            }
            int n = lengths.get(first);
            for (int k = 0; k < n; k++) {
                out.add(first + k);
            }
            used = true;
            i += hit.tokens().length;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private InvalidRequestException unusable(Embedding e) {
        if (firstId < 0) {
            return new InvalidRequestException("prompt", "embedding '" + e.name() + "' cannot be used: this model's text"
                    + " encoder has no token-embedding table to extend");
        }
        String named = "embedding '" + e.name() + "'" + (e.file() == null ? "" : " (" + e.file() + ")");
        String families = " (an embedding trained for another model family: SD 1.x is 768, SD 2.x 1024,"
                + " SDXL 768 and 1280 as clip_l and clip_g)";
        if (e.widths().size() > 1 && new java.util.HashSet<>(e.widths()).equals(new java.util.HashSet<>(modelWidths))) {
            List<String> counts = new ArrayList<>();
            e.variants().forEach(v -> counts.add(Integer.toString(v.length)));
            return new InvalidRequestException("prompt", named + " has " + String.join(" and ", counts)
                    + " vectors for widths " + join(e.widths()) + ": each text encoder needs the same number");
        }
        return new InvalidRequestException("prompt", named + " has vectors of width " + join(e.widths())
                + ", but this model's text " + (modelWidths.size() > 1 ? "encoders are " : "encoder is ")
                + join(modelWidths) + " wide" + families);
    }

    private static String join(List<Integer> widths) {
        List<String> w = new ArrayList<>();
        widths.forEach(x -> w.add(Integer.toString(x)));
        return String.join(" and ", w);
    }

    private Trigger match(long[] tokens, int at) {
        for (Trigger t : triggers) {
            long[] seq = t.tokens();
            if (at + seq.length <= tokens.length
                    && Arrays.equals(tokens, at, at + seq.length, seq, 0, seq.length)) {
                return t;
            }
        }
        return null;
    }

    /** Vectors of the embedding whose first id is {@code id}, or 0 for any other token (for chunking). */
    int lengthAt(long id) {
        Integer n = lengths.get(id);
        return n == null ? 0 : n;
    }

    /** Whether a substituted prompt used an embedding: only then does the encoder need the extra rows. */
    boolean used() {
        return used;
    }

    /** The extra token-table rows, id {@code vocabularySize() + i} for row i. */
    float[][] rows() {
        return rows.toArray(new float[0][]);
    }
}
