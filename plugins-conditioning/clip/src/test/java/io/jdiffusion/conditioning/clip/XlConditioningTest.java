package io.jdiffusion.conditioning.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.TextModel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/**
 * SDXL conditioning on the real CLIP vocabulary (tokenizer/ pads with EOS, tokenizer_2 with "!" = 0) and fake
 * encoders: hidden states side by side (encoder 1 then 2), pooled text_embeds from encoder 2's first chunk,
 * force_zeros_for_empty_prompt.
 */
class XlConditioningTest {
    @TempDir
    static Path tmp;

    static Path tok1;
    static Path tok2;
    static ClipConditioner conditioner;
    /** The reference ids: the same tokenizer files, loaded once (the real vocabulary takes seconds to load). */
    static ClipTokenizer t1;
    static ClipTokenizer t2;

    @BeforeAll
    static void setUp() throws IOException {
        tok1 = ClipFixtures.writeSd15(tmp.resolve("sdxl/tokenizer"));
        tok2 = ClipFixtures.writeSdxlTokenizer2(tmp.resolve("sdxl/tokenizer_2"));
        conditioner = new ClipConditioner();
        t1 = ClipTokenizer.load(tok1);
        t2 = ClipTokenizer.load(tok2);
    }

    @AfterAll
    static void tearDown() {
        conditioner.deactivate();
        t1.close();
        t2.close();
    }

    /** Encoder 2: hidden[t][c] = -(id + c/1000); pooled = (id at position 1, sum of the row's ids) + 0.5. */
    static final class SecondEncoder extends ClipConditionerTest.FakeTextModel {
        SecondEncoder(Path dir) {
            super(dir, 77, 2);
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
    }

    /** Encoder 1 (3 wide) with encoder 2 as its second encoder. */
    static final class Xl extends ClipConditionerTest.FakeTextModel {
        final SecondEncoder second = new SecondEncoder(tok2);
        final boolean zeros;

        Xl(boolean zeros) {
            super(tok1, 77, 3);
            this.zeros = zeros;
        }

        @Override
        public TextModel secondEncoder() {
            return second;
        }

        @Override
        public boolean zerosForEmptyPrompt() {
            return zeros;
        }
    }

    @Test
    void statesSideBySideAndPooledFromTheSecondEncoder() throws IOException {
        Xl model = new Xl(true);
        Conditioning c = conditioner.condition(model, "a red circle", "blurry");
        assertEquals(77, c.tokens());
        assertEquals(5, c.width());
        {
            long[] ids1 = t1.encodePadded("a red circle", 77);
            long[] ids2 = t2.encodePadded("a red circle", 77);
            assertEquals(0, t2.padId(), "tokenizer_2 pads with '!'");
            assertEquals(0, ids2[76]);
            assertEquals(t1.eosId(), ids1[76]);
            for (int i = 0; i < 77; i++) {
                assertEquals(ids1[i] + 0.001f, c.positive()[i * 5 + 1], 1e-2, "encoder 1 at token " + i);
                assertEquals(-(ids2[i] + 0.001f), c.positive()[i * 5 + 4], 1e-2, "encoder 2 at token " + i);
            }
            long sum = 0;
            for (long id : ids2) {
                sum += id;
            }
            assertArrayEquals(new float[] {ids2[1] + 0.5f, sum}, c.pooled(), 1e-3f);
            assertArrayEquals(new float[] {t2.encodePadded("blurry", 77)[1] + 0.5f, sumOf(t2.encodePadded("blurry", 77))},
                    c.negativePooled(), 1e-3f);
        }
        // the second encoder saw rows padded with 0 after their EOS, the first with EOS
        long[] row2 = model.second.calls.get(0);
        assertEquals(0, row2[76]);
        assertNotEquals(0, model.calls.get(0)[76]);
    }

    @Test
    void pooledComesFromTheFirstChunkOfALongPrompt() throws IOException {
        String longPrompt = "red ".repeat(80) + "blue green";
        Conditioning c = conditioner.condition(new Xl(true), longPrompt, "");
        assertEquals(154, c.tokens());
        {
            long[] first = t2.encodePadded("red ".repeat(75).trim(), 77);
            assertArrayEquals(new float[] {first[1] + 0.5f, sumOf(first)}, c.pooled(), 1e-3f);
        }
    }

    @Test
    void emptyNegativeIsZerosWhenTheModelSaysSo() {
        Conditioning zeroed = conditioner.condition(new Xl(true), "a red circle", "");
        for (float v : zeroed.negative()) {
            assertEquals(0f, v);
        }
        assertArrayEquals(new float[2], zeroed.negativePooled());
        Conditioning encoded = conditioner.condition(new Xl(false), "a red circle", "");
        assertTrue(encoded.negative()[0] != 0f && encoded.negativePooled()[1] != 0f,
                "without force_zeros_for_empty_prompt the empty prompt is encoded");
        Conditioning named = conditioner.condition(new Xl(true), "a red circle", "blurry");
        assertTrue(named.negative()[0] != 0f, "a non-empty negative prompt is encoded");
    }

    @Test
    void promptEditingSwitchesHiddenStatesAndPooledTogether() throws IOException {
        ClipConditioner a1111 = new ClipConditioner();
        a1111.addParser(new io.jdiffusion.conditioning.a1111.A1111PromptParser(),
                java.util.Map.of(io.jdiffusion.api.Plugin.NAME, io.jdiffusion.api.PromptParser.DEFAULT));
        try {
            java.util.List<io.jdiffusion.api.ScheduledConditioning> s =
                    a1111.schedule(new Xl(true), "a [red:blue:5] circle", "", 10);
            assertEquals(2, s.size());
            String[] texts = {"a red circle", "a blue circle"};
            for (int e = 0; e < 2; e++) {
                Conditioning c = s.get(e).conditioning();
                long[] ids1 = t1.encodePadded(texts[e], 77);
                long[] ids2 = t2.encodePadded(texts[e], 77);
                assertEquals(ids1[2] + 0.001f, c.positive()[2 * 5 + 1], 1e-2, texts[e]);
                assertEquals(-(ids2[2] + 0.001f), c.positive()[2 * 5 + 4], 1e-2, texts[e]);
                assertArrayEquals(new float[] {ids2[1] + 0.5f, sumOf(ids2)}, c.pooled(), 1e-3f, texts[e]);
            }
        } finally {
            a1111.deactivate();
        }
    }

    private static float sumOf(long[] ids) {
        long s = 0;
        for (long id : ids) {
            s += id;
        }
        return s;
    }
}
