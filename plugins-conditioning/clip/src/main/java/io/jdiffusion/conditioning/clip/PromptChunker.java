package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.WeightedText;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * A1111's {@code tokenize_line} (modules/sd_hijack_clip.py): weighted prompt pieces to chunks of
 * {@code length - 2} tokens, each with BOS in front, EOS behind and EOS padding, and one weight
 * per token. A chunk that would end inside a comma-separated part moves that part (when the last
 * comma is at most {@link #COMMA_BACKTRACK} tokens back) to the next chunk; BREAK starts a new one.
 */
final class PromptChunker {
    /** A1111's default {@code comma_padding_backtrack}. */
    static final int COMMA_BACKTRACK = 20;

    /** One encoder row: ids with BOS/EOS/padding, and each token's multiplier. */
    record Chunk(long[] ids, float[] multipliers) {
    }

    /**
     * @param tokenCount A1111's count: full chunks count their whole length, the last one its tokens
     */
    record Result(List<Chunk> chunks, int tokenCount) {
    }

    private final int chunkLength;
    private final long bos;
    private final long eos;
    private final long comma;
    private final Function<String, long[]> tokenize;
    /** Vectors of the embedding a token id starts (0: an ordinary token), so one is never split. */
    private final java.util.function.LongToIntFunction embeddingLength;

    private final List<Chunk> chunks = new ArrayList<>();
    private List<Long> tokens = new ArrayList<>();
    private List<Float> multipliers = new ArrayList<>();
    private int tokenCount;
    private int lastComma = -1;

    /**
     * @param length   encoder row length (77 for CLIP)
     * @param comma    id of {@code ,} (or -1 when the vocabulary has none)
     * @param tokenize a text's token ids without BOS/EOS
     */
    private PromptChunker(int length, long bos, long eos, long comma, Function<String, long[]> tokenize,
                          java.util.function.LongToIntFunction embeddingLength) {
        this.chunkLength = length - 2;
        this.bos = bos;
        this.eos = eos;
        this.comma = comma;
        this.tokenize = tokenize;
        this.embeddingLength = embeddingLength;
    }

    static Result chunk(List<WeightedText> parsed, int length, long bos, long eos, long comma,
                        Function<String, long[]> tokenize) {
        return chunk(parsed, length, bos, eos, comma, tokenize, id -> 0);
    }

    /**
     * As above, for ids with textual-inversion embeddings in them: an embedding that does not fit in
     * what is left of the chunk starts the next one, as A1111 does.
     */
    static Result chunk(List<WeightedText> parsed, int length, long bos, long eos, long comma,
                        Function<String, long[]> tokenize, java.util.function.LongToIntFunction embeddingLength) {
        return new PromptChunker(length, bos, eos, comma, tokenize, embeddingLength).run(parsed);
    }

    /** The row of an empty prompt: BOS, then EOS to the end; every weight 1. */
    static Chunk empty(int length, long bos, long eos) {
        long[] ids = new long[length];
        Arrays.fill(ids, eos);
        ids[0] = bos;
        float[] m = new float[length];
        Arrays.fill(m, 1f);
        return new Chunk(ids, m);
    }

    private Result run(List<WeightedText> parsed) {
        for (WeightedText piece : parsed) {
            if (piece.chunkBreak()) {
                nextChunk(false);
                continue;
            }
            long[] ids = tokenize.apply(piece.text());
            float weight = (float) piece.weight();
            for (long token : ids) {
                int embedding = embeddingLength.applyAsInt(token);
                if (embedding > 1 && !tokens.isEmpty() && tokens.size() + embedding > chunkLength) {
                    nextChunk(false);
                }
                if (token == comma) {
                    lastComma = tokens.size();
                } else if (tokens.size() == chunkLength && lastComma != -1
                        && tokens.size() - lastComma <= COMMA_BACKTRACK) {
                    // full, mid-part: the tokens after the last comma move on to the next chunk
                    int breakAt = lastComma + 1;
                    List<Long> movedTokens = new ArrayList<>(tokens.subList(breakAt, tokens.size()));
                    List<Float> movedWeights = new ArrayList<>(multipliers.subList(breakAt, multipliers.size()));
                    tokens = new ArrayList<>(tokens.subList(0, breakAt));
                    multipliers = new ArrayList<>(multipliers.subList(0, breakAt));
                    nextChunk(false);
                    tokens = movedTokens;
                    multipliers = movedWeights;
                }
                if (tokens.size() == chunkLength) {
                    nextChunk(false);
                }
                tokens.add(token);
                multipliers.add(weight);
            }
        }
        if (!tokens.isEmpty() || chunks.isEmpty()) {
            nextChunk(true);
        }
        return new Result(List.copyOf(chunks), tokenCount);
    }

    private void nextChunk(boolean last) {
        tokenCount += last ? tokens.size() : chunkLength;
        long[] ids = new long[chunkLength + 2];
        float[] m = new float[chunkLength + 2];
        Arrays.fill(ids, eos);
        Arrays.fill(m, 1f);
        ids[0] = bos;
        for (int i = 0; i < tokens.size(); i++) {
            ids[i + 1] = tokens.get(i);
            m[i + 1] = multipliers.get(i);
        }
        chunks.add(new Chunk(ids, m));
        tokens = new ArrayList<>();
        multipliers = new ArrayList<>();
        lastComma = -1;
    }
}
