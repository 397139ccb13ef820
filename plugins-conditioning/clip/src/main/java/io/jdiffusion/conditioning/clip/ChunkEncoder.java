package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.ScheduledPrompt;
import io.jdiffusion.api.TextModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes the texts of a prompt's schedule (and of the negative prompt's) as A1111's
 * {@code FrozenCLIPEmbedderWithCustomWordsBase.forward} does, all rows in one encoder batch:
 * a group (one prompt's schedule texts, encoded together in A1111) is padded in the batch to its
 * longest text with empty chunks; emphasis takes its mean per chunk position over the group;
 * groups of different lengths are then padded with the empty prompt's encoding.
 */
final class ChunkEncoder {
    /** One prompt's schedule: its texts in order (repeats included: they count in the means). */
    static final class Group {
        final List<String> entries = new ArrayList<>();
        final Map<String, List<PromptChunker.Chunk>> chunks = new LinkedHashMap<>();
        final Map<String, int[]> rows = new LinkedHashMap<>();
        final Map<String, float[][]> multipliers = new LinkedHashMap<>();
        int chunkCount;
    }

    private final TextModel model;
    private final ClipTokenizer tokenizer;
    private final PromptParser parser;
    private final EmbeddingVocabulary embeddings;
    private final int length;
    private final int width;
    private final List<Group> groups = new ArrayList<>();
    private final List<long[]> rowIds = new ArrayList<>();
    private int maxChunks;
    private int emptyRow = -1;
    private float[] hidden;

    ChunkEncoder(TextModel model, ClipTokenizer tokenizer, PromptParser parser) {
        this(model, tokenizer, parser, EmbeddingVocabulary.NONE);
    }

    ChunkEncoder(TextModel model, ClipTokenizer tokenizer, PromptParser parser, EmbeddingVocabulary embeddings) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.parser = parser;
        this.embeddings = embeddings;
        this.length = model.maxLength();
        this.width = model.hiddenWidth();
    }

    /** Chunks of one text of a schedule: its weighted pieces cut into encoder rows. */
    static PromptChunker.Result chunk(TextModel model, ClipTokenizer tokenizer, PromptParser parser, String text) {
        return chunk(model, tokenizer, parser, EmbeddingVocabulary.NONE, text);
    }

    /** As above, with embedding trigger words replaced by their vectors' ids. */
    static PromptChunker.Result chunk(TextModel model, ClipTokenizer tokenizer, PromptParser parser,
                                      EmbeddingVocabulary embeddings, String text) {
        List<Integer> comma = tokenizer.contentIds(",");
        return PromptChunker.chunk(parser.weights(text), model.maxLength(), tokenizer.bosId(), tokenizer.eosId(),
                comma.size() == 1 ? comma.get(0) : -1, t -> embeddings.substitute(toLongs(tokenizer.contentIds(t))),
                embeddings::lengthAt);
    }

    Group add(List<ScheduledPrompt> schedule) {
        Group g = new Group();
        for (ScheduledPrompt p : schedule) {
            g.entries.add(p.text());
            g.chunks.computeIfAbsent(p.text(), t -> chunk(model, tokenizer, parser, embeddings, t).chunks());
        }
        g.chunks.values().forEach(c -> g.chunkCount = Math.max(g.chunkCount, c.size()));
        maxChunks = Math.max(maxChunks, g.chunkCount);
        groups.add(g);
        return g;
    }

    /** Runs the encoder on every row and applies the weights. */
    void encode() {
        PromptChunker.Chunk empty = PromptChunker.empty(length, tokenizer.bosId(), tokenizer.eosId());
        for (Group g : groups) {
            g.chunks.forEach((text, chunks) -> {
                int[] rows = new int[g.chunkCount];
                float[][] m = new float[g.chunkCount][];
                for (int i = 0; i < g.chunkCount; i++) {
                    PromptChunker.Chunk c = i < chunks.size() ? chunks.get(i) : empty;
                    rows[i] = addRow(c.ids());
                    m[i] = c.multipliers();
                }
                g.rows.put(text, rows);
                g.multipliers.put(text, m);
            });
            if (g.chunkCount < maxChunks && emptyRow < 0) {
                emptyRow = addRow(empty.ids());
            }
        }
        long[] ids = new long[rowIds.size() * length];
        for (int r = 0; r < rowIds.size(); r++) {
            System.arraycopy(rowIds.get(r), 0, ids, r * length, length);
        }
        // the extra token rows only when the prompt used an embedding: else the encoder as it was loaded
        hidden = embeddings.used() ? model.encode(ids, rowIds.size(), embeddings.rows()) : model.encode(ids, rowIds.size());
        long expected = (long) rowIds.size() * length * width;
        if (hidden == null || hidden.length != expected) {
            throw new IllegalStateException("text encoder returned " + (hidden == null ? "nothing" : hidden.length + " floats")
                    + ", expected [" + rowIds.size() + ", " + length + ", " + width + "] = " + expected);
        }
        for (Group g : groups) {
            for (int i = 0; i < g.chunkCount; i++) {
                int[] rows = new int[g.entries.size()];
                float[][] m = new float[g.entries.size()][];
                for (int e = 0; e < rows.length; e++) {
                    rows[e] = g.rows.get(g.entries.get(e))[i];
                    m[e] = g.multipliers.get(g.entries.get(e))[i];
                }
                Emphasis.apply(hidden, length, width, rows, m);
            }
        }
    }

    /** Tokens of every conditioning: the longest group's chunks times the row length. */
    int tokens() {
        return maxChunks * length;
    }

    /** {@code [1, tokens(), width]} for one text of a group: its chunks, then empty-prompt padding. */
    float[] hidden(Group g, String text) {
        int row = length * width;
        float[] out = new float[maxChunks * row];
        int[] rows = g.rows.get(text);
        for (int i = 0; i < maxChunks; i++) {
            int from = i < rows.length ? rows[i] : emptyRow;
            System.arraycopy(hidden, from * row, out, i * row, row);
        }
        return out;
    }

    /**
     * A row as the encoder gets it: SD 2.x and SDXL's second tokenizer pad with another token than EOS, and
     * A1111 puts that pad after the first EOS of each row.
     */
    static long[] padAfterEos(long[] ids, ClipTokenizer tokenizer) {
        long[] row = ids.clone();
        long eos = tokenizer.eosId();
        long pad = tokenizer.padId();
        if (pad != eos) {
            for (int i = 1; i < row.length; i++) {
                if (row[i] == eos) {
                    Arrays.fill(row, i + 1, row.length, pad);
                    break;
                }
            }
        }
        return row;
    }

    private int addRow(long[] ids) {
        long[] row = padAfterEos(ids, tokenizer);
        rowIds.add(row);
        return rowIds.size() - 1;
    }

    private static long[] toLongs(List<Integer> ids) {
        long[] out = new long[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
    }
}
