package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.api.ScheduledPrompt;
import io.jdiffusion.api.TextModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * SDXL conditioning from two text encoders, as A1111 (sd_models_xl / sd_hijack_clip) and diffusers' SDXL pipeline
 * make it. Each encoder runs the whole CLIP conditioning on its own: same prompt syntax, same 75-token chunks (both
 * tokenizers share CLIP's vocabulary), each tokenizer padding with its own pad token (tokenizer_2: "!", id 0), the
 * weights applied per encoder. The hidden states go side by side along the width (768 + 1280 = 2048); the pooled
 * {@code text_embeds} is text_encoder_2's pooled output of the FIRST chunk, unweighted (A1111: {@code zs[0].pooled}).
 * With {@code force_zeros_for_empty_prompt} an empty negative prompt conditions as zeros, hidden and pooled alike.
 */
final class XlConditioning {
    private XlConditioning() {
    }

    static List<ScheduledConditioning> schedule(ClipConditioner conditioner, TextModel model, String prompt,
                                                String negativePrompt, int steps) {
        TextModel second = model.secondEncoder();
        if (second.pooledWidth() <= 0) {
            throw new IllegalStateException("SDXL's second text encoder (" + second.tokenizerDir()
                    + ") has no pooled output (text_embeds)");
        }
        PooledCapture capture = new PooledCapture(second, model);
        List<ScheduledConditioning> first = conditioner.schedule(new FirstOnly(model), prompt, negativePrompt, steps);
        List<ScheduledConditioning> other = conditioner.schedule(capture, prompt, negativePrompt, steps);
        if (first.size() != other.size()) {
            throw new IllegalStateException("the two SDXL text encoders scheduled the prompt differently");
        }
        PromptParser parser = conditioner.parser();
        List<ScheduledPrompt> positive = parser.schedule(prompt == null ? "" : prompt, steps);
        List<ScheduledPrompt> negative = parser.schedule(negativePrompt == null ? "" : negativePrompt, steps);
        boolean zeroNegative = model.zerosForEmptyPrompt() && (negativePrompt == null || negativePrompt.isEmpty());
        ClipTokenizer tokenizer = conditioner.tokenizers().get(second.tokenizerDir());
        // the pooled row takes the trigger words' ids too, so text_embeds sees the embedding (at the EOS)
        EmbeddingVocabulary embeddings = EmbeddingVocabulary.of(conditioner.embeddingSources(), tokenizer, capture);

        List<ScheduledConditioning> out = new ArrayList<>();
        Map<Conditioning, Conditioning> made = new IdentityHashMap<>(); // repeated pairs share one conditioning
        for (int i = 0; i < first.size(); i++) {
            int end = first.get(i).untilStep();
            Conditioning a = first.get(i).conditioning();
            Conditioning b = other.get(i).conditioning();
            if (a.tokens() != b.tokens()) {
                throw new IllegalStateException("SDXL text encoders gave " + a.tokens() + " and " + b.tokens() + " tokens");
            }
            Conditioning c = made.computeIfAbsent(a, k -> {
                int width = a.width() + b.width();
                float[] pooled = capture.pooledOf(firstChunk(second, tokenizer, parser, embeddings,
                        ClipConditioner.activeAt(positive, end)), embeddings);
                float[] negHidden = zeroNegative ? new float[a.tokens() * width]
                        : sideBySide(a.negative(), b.negative(), a.tokens(), a.width(), b.width());
                float[] negPooled = zeroNegative ? new float[pooled.length]
                        : capture.pooledOf(firstChunk(second, tokenizer, parser, embeddings,
                        ClipConditioner.activeAt(negative, end)), embeddings);
                return new Conditioning(sideBySide(a.positive(), b.positive(), a.tokens(), a.width(), b.width()),
                        negHidden, a.tokens(), width, pooled, negPooled);
            });
            out.add(new ScheduledConditioning(end, c));
        }
        return out;
    }

    /** {@code [T, wa]} and {@code [T, wb]} into {@code [T, wa + wb]} (torch.cat(dim=-1)). */
    static float[] sideBySide(float[] a, float[] b, int tokens, int wa, int wb) {
        float[] out = new float[tokens * (wa + wb)];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(a, t * wa, out, t * (wa + wb), wa);
            System.arraycopy(b, t * wb, out, t * (wa + wb) + wa, wb);
        }
        return out;
    }

    /** The encoder row of a text's first chunk, padded the way {@link ChunkEncoder} pads rows. */
    private static long[] firstChunk(TextModel model, ClipTokenizer tokenizer, PromptParser parser,
                                     EmbeddingVocabulary embeddings, String text) {
        List<PromptChunker.Chunk> chunks = ChunkEncoder.chunk(model, tokenizer, parser, embeddings, text).chunks();
        return ChunkEncoder.padAfterEos((chunks.isEmpty()
                ? PromptChunker.empty(model.maxLength(), tokenizer.bosId(), tokenizer.eosId()) : chunks.get(0)).ids(),
                tokenizer);
    }

    /**
     * One of SDXL's two encoders as the CLIP path sees it. It knows both encoders' widths (an embedding must have
     * vectors for both: {@link EmbeddingVocabulary}) and gives the new ids from the same first id in both
     * tokenizations: the larger vocabulary size, a smaller table getting zero rows up to it (never used).
     */
    abstract static class Part implements TextModel {
        final TextModel model;
        private final TextModel first;

        Part(TextModel model, TextModel first) {
            this.model = model;
            this.first = first;
        }

        /** text_encoder's width, then text_encoder_2's. */
        List<Integer> encoderWidths() {
            return List.of(first.hiddenWidth(), first.secondEncoder().hiddenWidth());
        }

        @Override
        public Path tokenizerDir() {
            return model.tokenizerDir();
        }

        @Override
        public int maxLength() {
            return model.maxLength();
        }

        @Override
        public int hiddenWidth() {
            return model.hiddenWidth();
        }

        @Override
        public int vocabularySize() {
            int a = first.vocabularySize();
            int b = first.secondEncoder().vocabularySize();
            return a < 0 || b < 0 ? -1 : Math.max(a, b);
        }

        /** {@code rows} after the zero rows that take this encoder's table up to {@link #vocabularySize()}. */
        float[][] ownRows(float[][] rows) {
            int gap = vocabularySize() - model.vocabularySize();
            if (rows == null || rows.length == 0 || gap <= 0) {
                return rows;
            }
            float[][] out = new float[gap + rows.length][];
            for (int i = 0; i < gap; i++) {
                out[i] = new float[model.hiddenWidth()];
            }
            System.arraycopy(rows, 0, out, gap, rows.length);
            return out;
        }
    }

    /** The first encoder alone (so the CLIP path does not recurse into SDXL handling). */
    private static final class FirstOnly extends Part {
        FirstOnly(TextModel model) {
            super(model, model);
        }

        @Override
        public float[] encode(long[] ids, int sequences) {
            return model.encode(ids, sequences);
        }

        @Override
        public float[] encode(long[] ids, int sequences, float[][] extraRows) {
            return model.encode(ids, sequences, ownRows(extraRows));
        }
    }

    /**
     * The second encoder, keeping the pooled output of every row it encodes so the first chunk's pooled vector
     * needs no second run (a row not seen is encoded on its own).
     */
    private static final class PooledCapture extends Part {
        private final Map<List<Long>, float[]> pooled = new HashMap<>();

        PooledCapture(TextModel model, TextModel first) {
            super(model, first);
        }

        @Override
        public int pooledWidth() {
            return model.pooledWidth();
        }

        @Override
        public float[] encode(long[] ids, int sequences) {
            return keep(ids, sequences, model.encodeWithPooled(ids, sequences));
        }

        @Override
        public float[] encode(long[] ids, int sequences, float[][] extraRows) {
            return keep(ids, sequences, model.encodeWithPooled(ids, sequences, ownRows(extraRows)));
        }

        private float[] keep(long[] ids, int sequences, Output out) {
            int length = model.maxLength();
            int width = model.pooledWidth();
            for (int s = 0; s < sequences; s++) {
                pooled.put(key(Arrays.copyOfRange(ids, s * length, (s + 1) * length)),
                        Arrays.copyOfRange(out.pooled(), s * width, (s + 1) * width));
            }
            return out.hidden();
        }

        /** The pooled output of {@code row}, whose new ids (if any) are {@code embeddings}' rows. */
        float[] pooledOf(long[] row, EmbeddingVocabulary embeddings) {
            float[][] rows = embeddings.used() ? ownRows(embeddings.rows()) : new float[0][];
            return pooled.computeIfAbsent(key(row), k -> model.encodeWithPooled(row, 1, rows).pooled()).clone();
        }

        private static List<Long> key(long[] ids) {
            List<Long> k = new ArrayList<>(ids.length);
            for (long id : ids) {
                k.add(id);
            }
            return k;
        }
    }
}
