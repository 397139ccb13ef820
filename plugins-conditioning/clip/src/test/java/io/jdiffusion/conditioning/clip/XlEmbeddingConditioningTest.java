package io.jdiffusion.conditioning.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.EmbeddingSource;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.api.service.InvalidRequestException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Textual inversion on SDXL's two encoders (fake encoders, the real CLIP vocabulary in both tokenizers): the trigger
 * word gets the same ids in both tokenizations, text_encoder takes the clip_l vectors and text_encoder_2 the clip_g
 * ones, the pooled row carries the ids too, and an embedding not made for both encoders is a 400 naming the widths.
 */
class XlEmbeddingConditioningTest {
    static final int VOCAB = 49408;

    @TempDir
    static Path tmp;
    static ClipConditioner conditioner;
    static ClipTokenizer t1;
    static Path tok1;
    static Path tok2;

    @BeforeAll
    static void setUp() throws IOException {
        tok1 = ClipFixtures.writeSd15(tmp.resolve("sdxl/tokenizer"));
        tok2 = ClipFixtures.writeSdxlTokenizer2(tmp.resolve("sdxl/tokenizer_2"));
        t1 = ClipTokenizer.load(tok1);
        conditioner = new ClipConditioner();
        conditioner.addEmbeddingSource(new EmbeddingSource() {
            @Override
            public Map<String, float[][]> embeddings() {
                return Map.of();
            }

            @Override
            public List<Embedding> loaded() {
                return List.of(new Embedding("a-pair", List.of(rows(2, 3, 10), rows(2, 2, 20)), "a-pair.safetensors"),
                        new Embedding("b-pair", List.of(rows(1, 3, 30), rows(1, 2, 40)), "b-pair.safetensors"),
                        new Embedding("sd1-thing", rows(1, 3, 50), "sd1-thing.pt"),
                        new Embedding("odd-pair", List.of(rows(1, 3, 60), rows(2, 2, 70)), "odd-pair.safetensors"));
            }
        });
    }

    @AfterAll
    static void tearDown() {
        conditioner.deactivate();
        t1.close();
    }

    static float[][] rows(int n, int width, float base) {
        float[][] v = new float[n][width];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < width; c++) {
                v[i][c] = base + i + c / 100f;
            }
        }
        return v;
    }

    /**
     * Encoder 2 (2 wide) with a token table of {@code vocab} rows, keeping the extra rows it is given:
     * hidden[t][c] = -(id + c/1000); pooled = (id at position 1 + 0.5, sum of the row's ids).
     */
    static final class Second extends ClipConditionerTest.FakeTextModel {
        final int vocab;
        final List<float[][]> extra = new ArrayList<>();

        Second(int vocab) {
            super(tok2, 77, 2);
            this.vocab = vocab;
        }

        @Override
        public int pooledWidth() {
            return 2;
        }

        @Override
        public float[] encode(long[] ids, int sequences) {
            float[] h = super.encode(ids, sequences);
            for (int i = 0; i < h.length; i++) {
                h[i] = -h[i];
            }
            return h;
        }

        @Override
        public Output encodeWithPooled(long[] ids, int sequences) {
            float[] pooled = new float[sequences * 2];
            for (int s = 0; s < sequences; s++) {
                long sum = 0;
                for (int t = 0; t < 77; t++) {
                    sum += ids[s * 77 + t];
                }
                pooled[s * 2] = ids[s * 77 + 1] + 0.5f;
                pooled[s * 2 + 1] = sum;
            }
            return new Output(encode(ids, sequences), pooled);
        }

        @Override
        public int vocabularySize() {
            return vocab;
        }

        @Override
        public Output encodeWithPooled(long[] ids, int sequences, float[][] extraRows) {
            extra.add(extraRows);
            return encodeWithPooled(ids, sequences);
        }
    }

    /** Encoder 1 (3 wide) of {@code VOCAB} rows with {@link Second}. */
    static final class Xl extends ClipConditionerTest.FakeTextModel {
        final Second second;
        final List<float[][]> extra = new ArrayList<>();

        Xl(int secondVocab) {
            super(tok1, 77, 3);
            second = new Second(secondVocab);
        }

        @Override
        public TextModel secondEncoder() {
            return second;
        }

        @Override
        public int vocabularySize() {
            return VOCAB;
        }

        @Override
        public float[] encode(long[] ids, int sequences, float[][] extraRows) {
            extra.add(extraRows);
            return encode(ids, sequences);
        }
    }

    @Test
    void bothEncodersGetTheSameIdsAndTheirOwnVectors() {
        Xl model = new Xl(VOCAB);
        Conditioning c = conditioner.condition(model, "a b-pair circle", "");
        long[] ids1 = model.calls.get(0);
        long[] ids2 = model.second.calls.get(0);
        long a = t1.contentIds("a").get(0);
        // names in order: a-pair 2 vectors (VOCAB, VOCAB+1), b-pair 1 (VOCAB+2); sd1-thing and odd-pair get none
        assertEquals(a, ids1[1]);
        assertEquals(VOCAB + 2, ids1[2]);
        assertEquals(VOCAB + 2, ids2[2], "the same id in tokenizer_2's row");
        assertEquals(ids1[3], ids2[3]);
        float[][] l = model.extra.get(0);
        float[][] g = model.second.extra.get(0);
        assertEquals(3, l.length);
        assertEquals(3, g.length);
        assertArrayEquals(rows(1, 3, 30)[0], l[2], "clip_l to text_encoder");
        assertArrayEquals(rows(1, 2, 40)[0], g[2], "clip_g to text_encoder_2");
        assertArrayEquals(rows(2, 2, 20)[1], g[1]);
        // the pooled row is the prompt's first chunk with the new id: its sum holds VOCAB + 2
        long sum = 0;
        for (int t = 0; t < 77; t++) { // the batch's first row is the prompt's
            sum += ids2[t];
        }
        assertTrue(sum > VOCAB + 2 + t1.eosId());
        assertEquals(sum, c.pooled()[1], 1f);
        assertEquals(a + 0.5f, c.pooled()[0], 0f);
        // the hidden state at the trigger: encoder 1's part, then encoder 2's (negated by the fake)
        assertEquals(VOCAB + 2, c.positive()[2 * 5], 1e-2f);
        assertEquals(-(VOCAB + 2), c.positive()[2 * 5 + 3], 1e-2f);
    }

    @Test
    void aSmallerSecondTableIsPaddedSoTheIdsStayTheSame() {
        Xl model = new Xl(VOCAB - 2);
        conditioner.condition(model, "a b-pair circle", "");
        assertEquals(VOCAB + 2, model.calls.get(0)[2]);
        assertEquals(VOCAB + 2, model.second.calls.get(0)[2]);
        float[][] g = model.second.extra.get(0);
        assertEquals(5, g.length, "two zero rows take ids VOCAB-2 and VOCAB-1");
        assertArrayEquals(new float[2], g[0]);
        assertArrayEquals(new float[2], g[1]);
        assertArrayEquals(rows(1, 2, 40)[0], g[4]);
        assertEquals(3, model.extra.get(0).length, "text_encoder needs no padding");
    }

    @Test
    void anSd1EmbeddingOnSdxlNamesBothWidths() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> conditioner.condition(new Xl(VOCAB), "a sd1-thing", ""));
        assertEquals("prompt", e.field());
        assertTrue(e.getMessage().contains("width 3,") && e.getMessage().contains("encoders are 3 and 2 wide"),
                e.getMessage());
    }

    @Test
    void aPairWithDifferentVectorCountsIsRefused() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> conditioner.condition(new Xl(VOCAB), "a odd-pair", ""));
        assertEquals("prompt", e.field());
        assertTrue(e.getMessage().contains("1 and 2 vectors"), e.getMessage());
    }

    @Test
    void tokensCountOneIdPerVectorOnSdxl() {
        assertEquals(1 + 2, conditioner.countTokens(new Xl(VOCAB), "a a-pair"));
    }
}
