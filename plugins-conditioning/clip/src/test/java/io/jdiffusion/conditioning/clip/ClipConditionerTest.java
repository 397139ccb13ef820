package io.jdiffusion.conditioning.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.TextModel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@link ClipConditioner} end to end with the real tokenizer and a fake text encoder. */
class ClipConditionerTest {

    @TempDir
    static Path tmp;

    static Path sd15;
    static Path sdxl2;
    static ClipConditioner conditioner;

    @BeforeAll
    static void setUp() throws IOException {
        sd15 = ClipFixtures.writeSd15(tmp.resolve("sd15/tokenizer"));
        sdxl2 = ClipFixtures.writeSdxlTokenizer2(tmp.resolve("sdxl/tokenizer_2"));
        conditioner = new ClipConditioner();
        // first use (native library loading) from a thread whose context loader sees nothing
        int count = ClipFixtures.withForeignContextClassLoader(
                () -> conditioner.countTokens(new FakeTextModel(sd15, 77, 2), "a cat"));
        assertEquals(2, count);
    }

    @AfterAll
    static void tearDown() {
        conditioner.deactivate();
    }

    /** Encoder stand-in: hidden[s][t][c] = id(s, t) + c / 1000, and it records its calls. */
    static class FakeTextModel implements TextModel {
        final Path dir;
        final int maxLength;
        final int width;
        final List<long[]> calls = new ArrayList<>();

        FakeTextModel(Path dir, int maxLength, int width) {
            this.dir = dir;
            this.maxLength = maxLength;
            this.width = width;
        }

        @Override
        public Path tokenizerDir() {
            return dir;
        }

        @Override
        public int maxLength() {
            return maxLength;
        }

        @Override
        public int hiddenWidth() {
            return width;
        }

        @Override
        public float[] encode(long[] ids, int sequences) {
            assertEquals(sequences * maxLength, ids.length);
            calls.add(ids.clone());
            float[] out = new float[sequences * maxLength * width];
            for (int i = 0; i < ids.length; i++) {
                for (int c = 0; c < width; c++) {
                    out[i * width + c] = ids[i] + c / 1000f;
                }
            }
            return out;
        }
    }

    @Test
    void encodesPromptAndNegativeInOneBatch() {
        FakeTextModel model = new FakeTextModel(sd15, 77, 8);
        Conditioning c = conditioner.condition(model, "a red circle on a white background", "blurry");

        assertEquals(77, c.tokens());
        assertEquals(8, c.width());
        assertEquals(77 * 8, c.positive().length);
        assertEquals(77 * 8, c.negative().length);
        assertEquals(1, model.calls.size());

        long[] ids = model.calls.get(0);
        try (ClipTokenizer t = ClipTokenizer.load(sd15)) {
            long[] positive = t.encodePadded("a red circle on a white background", 77);
            long[] negative = t.encodePadded("blurry", 77);
            for (int i = 0; i < 77; i++) {
                assertEquals(positive[i], ids[i]);
                assertEquals(negative[i], ids[77 + i]);
                assertEquals(positive[i] + 0.003f, c.positive()[i * 8 + 3], 1e-3);
                assertEquals(negative[i] + 0.003f, c.negative()[i * 8 + 3], 1e-3);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(49406, ids[0]);
        assertEquals(49407, ids[76]); // padded with <|endoftext|>
    }

    @Test
    void emptyAndNullNegativeAreTheUnconditionalRow() {
        FakeTextModel model = new FakeTextModel(sd15, 77, 4);
        Conditioning a = conditioner.condition(model, "cat", "");
        Conditioning b = conditioner.condition(model, "cat", null);
        assertArrayEquals(a.negative(), b.negative());
        long[] ids = model.calls.get(0);
        assertEquals(49406, ids[77]);
        assertEquals(49407, ids[78]);
        assertEquals(49407, ids[153]);
    }

    @Test
    void usesTheModelsLengthWidthAndPadToken() {
        FakeTextModel model = new FakeTextModel(sdxl2, 77, 1280);
        Conditioning c = conditioner.condition(model, "a photograph of an astronaut riding a horse", "");
        assertEquals(77 * 1280, c.positive().length);
        long[] ids = model.calls.get(0);
        assertEquals(0, ids[76]);  // SDXL tokenizer_2 pads with "!" = 0
        assertEquals(0, ids[153]);
    }

    @Test
    void longPromptsBecomeChunksOf75AndTheNegativeIsPadded() {
        FakeTextModel model = new FakeTextModel(sd15, 77, 2);
        Conditioning c = conditioner.condition(model, "highly detailed, ".repeat(60), "blurry");
        // 180 tokens: commas near each chunk end move the rest of a part on, so 3 chunks
        assertEquals(3 * 77, c.tokens());
        assertEquals(3 * 77 * 2, c.negative().length);
        long[] ids = model.calls.get(0);
        assertEquals(3 + 1 + 1, ids.length / 77, "3 prompt chunks, 1 negative chunk, 1 empty prompt to pad with");
        for (int chunk = 0; chunk < 3; chunk++) {
            assertEquals(49406, ids[chunk * 77], "each chunk starts with BOS");
            assertEquals(49407, ids[chunk * 77 + 76], "and ends with EOS");
        }
        // the negative's 2nd and 3rd chunks are the empty prompt's encoding: BOS then EOS
        assertEquals(49406 + 0.001f, c.negative()[77 * 2 + 1], 1e-3);
        assertEquals(49407 + 0.001f, c.negative()[(77 + 1) * 2 + 1], 1e-3);
    }

    @Test
    void withoutAParserThePromptIsPlainText() {
        FakeTextModel model = new FakeTextModel(sd15, 77, 2);
        conditioner.condition(model, "(cat:1.5)", "");
        try (ClipTokenizer t = ClipTokenizer.load(sd15)) {
            long[] expected = t.encodePadded("(cat:1.5)", 77);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(model.calls.get(0), 0, 77));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void countsTokensWithoutBosEos() {
        FakeTextModel model = new FakeTextModel(sd15, 77, 2);
        assertEquals(7, conditioner.countTokens(model, "a red circle on a white background"));
        assertEquals(0, conditioner.countTokens(model, ""));
        assertEquals(300, conditioner.countTokens(model, "cat ".repeat(300)));
    }

    @Test
    void rejectsAnEncoderOfTheWrongShape() {
        TextModel broken = new FakeTextModel(sd15, 77, 4) {
            @Override
            public float[] encode(long[] ids, int sequences) {
                return new float[10];
            }
        };
        assertThrows(IllegalStateException.class, () -> conditioner.condition(broken, "cat", ""));
    }
}
