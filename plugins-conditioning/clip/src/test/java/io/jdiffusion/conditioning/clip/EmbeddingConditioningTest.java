package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.EmbeddingSource;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trigger words to new token ids and extra table rows, with the real tokenizer and a recording encoder. */
class EmbeddingConditioningTest {
    static final int VOCAB = 49408;
    static final int W = 8;

    @TempDir
    static Path tmp;
    static Path sd15;
    static ClipConditioner conditioner;
    static ClipTokenizer tokenizer;

    /** Records the extra rows each call got. */
    static final class Model extends ClipConditionerTest.FakeTextModel {
        final List<float[][]> rows = new ArrayList<>();

        Model(int width) {
            super(sd15, 77, width);
        }

        @Override
        public int vocabularySize() {
            return VOCAB;
        }

        @Override
        public float[] encode(long[] ids, int sequences, float[][] extraRows) {
            rows.add(extraRows);
            return encode(ids, sequences);
        }
    }

    static float[][] vectors(int n, int width, float base) {
        float[][] v = new float[n][width];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < width; c++) {
                v[i][c] = base + i + c / 100f;
            }
        }
        return v;
    }

    @BeforeAll
    static void setUp() throws IOException {
        sd15 = ClipFixtures.writeSd15(tmp.resolve("sd15/tokenizer"));
        tokenizer = ClipTokenizer.load(sd15);
        conditioner = new ClipConditioner();
        EmbeddingSource source = new EmbeddingSource() {
            @Override
            public Map<String, float[][]> embeddings() {
                return Map.of();
            }

            @Override
            public List<Embedding> loaded() {
                return List.of(new Embedding("my-thing", vectors(2, W, 100), "my-thing.pt"),
                        new Embedding("style", vectors(3, W, 200), "style.safetensors"),
                        new Embedding("sd2-thing", vectors(1, 1024, 0), "sd2-thing.safetensors"),
                        new Embedding("xl-thing", List.of(vectors(1, 12, 0), vectors(2, W, 300)), "xl-thing.safetensors"));
            }
        };
        conditioner.addEmbeddingSource(source);
    }

    @AfterAll
    static void tearDown() {
        conditioner.deactivate();
        tokenizer.close();
    }

    private static long[] content(String text) {
        return tokenizer.contentIds(text).stream().mapToLong(Integer::longValue).toArray();
    }

    @Test
    void bareAndBracketedTriggerWordsBecomeOneIdPerVector() {
        // ids in name order from the vocabulary size: my-thing 2, style 3; not xl-thing, a pair of widths 12 and 8
        // (A1111 registers an embedding whose widths sum to the model's: 20 is not 8)
        for (String prompt : List.of("a my-thing on a purple background", "a <my-thing> on a purple background")) {
            Model model = new Model(W);
            conditioner.condition(model, prompt, "");
            long[] ids = model.calls.get(0);
            long[] a = content("a");
            long[] rest = content("on a purple background");
            assertEquals(a[0], ids[1]);
            assertEquals(VOCAB, ids[2], prompt);
            assertEquals(VOCAB + 1, ids[3], prompt);
            assertArrayEquals(rest, java.util.Arrays.copyOfRange(ids, 4, 4 + rest.length), prompt);
            float[][] rows = model.rows.get(0);
            assertEquals(5, rows.length);
            assertArrayEquals(vectors(2, W, 100)[1], rows[1]);
            assertArrayEquals(vectors(3, W, 200)[0], rows[2]);
        }
    }

    @Test
    void aPromptWithoutEmbeddingsUsesTheEncoderAsLoaded() {
        Model model = new Model(W);
        conditioner.condition(model, "a thing on a purple background", "");
        assertTrue(model.rows.isEmpty());
        assertEquals(1, model.calls.size());
    }

    @Test
    void widthMismatchNamesBothWidths() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> conditioner.condition(new Model(W), "a sd2-thing", ""));
        assertEquals("prompt", e.field());
        assertTrue(e.getMessage().contains("1024") && e.getMessage().contains(" " + W + " wide"), e.getMessage());
        assertTrue(e.getMessage().contains("sd2-thing.safetensors"), e.getMessage());
    }

    /** An SDXL pair (clip_l + clip_g) on a one-encoder model: A1111 skips it, a prompt naming it is a 400. */
    @Test
    void anSdxlPairOnAOneEncoderModelNamesBothWidths() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> conditioner.condition(new Model(W), "a xl-thing", ""));
        assertEquals("prompt", e.field());
        assertTrue(e.getMessage().contains("12 and " + W) && e.getMessage().contains(" is " + W + " wide"),
                e.getMessage());
    }

    @Test
    void anEmbeddingIsNotSplitAcrossChunksAndCountsItsVectors() {
        String filler = "cat ".repeat(74).trim();
        Model model = new Model(W);
        assertEquals(2 * 77, conditioner.condition(model, filler + " style", "").tokens(), "two chunks");
        long[] ids = model.calls.get(0); // the prompt's two rows come first
        assertEquals(tokenizer.eosId(), ids[75], "the first chunk ends before the embedding");
        assertEquals(VOCAB + 2, ids[77 + 1]);
        assertEquals(VOCAB + 4, ids[77 + 3]);
        assertEquals(3 + 1, conditioner.countTokens(new Model(W), "a style"));
    }

    @Test
    void aModelWithoutATableCannotUseEmbeddings() {
        ClipConditionerTest.FakeTextModel plain = new ClipConditionerTest.FakeTextModel(sd15, 77, W);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> conditioner.condition(plain, "a my-thing", ""));
        assertTrue(e.getMessage().contains("my-thing"), e.getMessage());
    }
}
