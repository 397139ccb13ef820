package io.jdiffusion.conditioning.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.conditioning.a1111.A1111PromptParser;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The A1111 rules of sd_hijack_clip.py with the real CLIP tokenizer and the A1111 syntax plugin:
 * chunks of 75, BREAK, comma backtracking, weights and the restored mean, schedules.
 */
class PromptChunkerTest {
    @TempDir
    static Path tmp;
    static Path sd15;
    static ClipConditioner conditioner;
    static ClipTokenizer tokenizer;

    @BeforeAll
    static void setUp() throws IOException {
        sd15 = ClipFixtures.writeSd15(tmp.resolve("sd15/tokenizer"));
        conditioner = new ClipConditioner();
        conditioner.addParser(new A1111PromptParser(), Map.of(Plugin.NAME, PromptParser.DEFAULT));
        tokenizer = ClipFixtures.withForeignContextClassLoader(() -> ClipTokenizer.load(sd15));
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
        conditioner.deactivate();
    }

    private static PromptChunker.Result chunk(String prompt) {
        ClipConditionerTest.FakeTextModel model = new ClipConditionerTest.FakeTextModel(sd15, 77, 2);
        return ChunkEncoder.chunk(model, tokenizer, conditioner.parser(), prompt);
    }

    private static long id(String word) {
        List<Integer> ids = tokenizer.contentIds(word);
        assertEquals(1, ids.size(), word);
        return ids.get(0);
    }

    @Test
    void shortPromptIsOneChunkLikeThePlainTokenizer() {
        PromptChunker.Result r = chunk("a red circle on a white background");
        assertEquals(1, r.chunks().size());
        assertEquals(7, r.tokenCount());
        assertArrayEquals(tokenizer.encodePadded("a red circle on a white background", 77), r.chunks().get(0).ids());
    }

    @Test
    void weightsGoToTheirTokensAndTheSyntaxTakesNone() {
        PromptChunker.Result r = chunk("a (red:1.5) and [blue]");
        assertEquals(4, r.tokenCount());
        long[] ids = r.chunks().get(0).ids();
        float[] m = r.chunks().get(0).multipliers();
        assertEquals(id("red"), ids[2]);
        assertEquals(1f, m[1]);
        assertEquals(1.5f, m[2]);
        assertEquals(1f, m[3]);
        assertEquals((float) (1 / 1.1), m[4]);
        assertEquals(1f, m[0]);
        assertEquals(1f, m[76]);
    }

    @Test
    void aLongPromptSplitsEvery75Tokens() {
        PromptChunker.Result r = chunk("cat ".repeat(120));
        assertEquals(2, r.chunks().size());
        assertEquals(120, r.tokenCount());
        long[] second = r.chunks().get(1).ids();
        assertEquals(tokenizer.bosId(), second[0]);
        assertEquals(id("cat"), second[45]);
        assertEquals(tokenizer.eosId(), second[46]);
    }

    @Test
    void breakStartsANewChunk() {
        assertEquals(1, chunk("a red circle on a white background").chunks().size());
        PromptChunker.Result r = chunk("a red circle BREAK on a white background");
        assertEquals(2, r.chunks().size());
        assertEquals(75 + 4, r.tokenCount(), "a broken chunk counts as full, as in A1111");
        assertEquals(id("circle"), r.chunks().get(0).ids()[3]);
        assertEquals(tokenizer.eosId(), r.chunks().get(0).ids()[4]);
        assertEquals(id("on"), r.chunks().get(1).ids()[1]);
    }

    @Test
    void aChunkEndingMidPartBacksUpToTheLastComma() {
        // 72 x cat, a comma (token 73), then dogs: the chunk is full at 75 with the comma 3 back
        PromptChunker.Result r = chunk("cat ".repeat(72) + ", " + "dog ".repeat(10));
        assertEquals(2, r.chunks().size());
        long[] first = r.chunks().get(0).ids();
        assertEquals(id("cat"), first[72]);
        assertEquals(id(","), first[73]);
        assertEquals(tokenizer.eosId(), first[74], "the two dogs moved on");
        long[] second = r.chunks().get(1).ids();
        for (int i = 1; i <= 10; i++) {
            assertEquals(id("dog"), second[i]);
        }
        assertEquals(tokenizer.eosId(), second[11]);
        // a comma more than 20 tokens back: no backing up
        PromptChunker.Result far = chunk("cat ".repeat(50) + ", " + "dog ".repeat(40));
        assertEquals(id("dog"), far.chunks().get(0).ids()[75]);
    }

    @Test
    void weightsScaleTheEncodingAndRestoreItsMean() {
        ClipConditionerTest.FakeTextModel model = new ClipConditionerTest.FakeTextModel(sd15, 77, 2);
        Conditioning plain = conditioner.condition(model, "a red cat", "");
        Conditioning weighted = conditioner.condition(model, "a (red:1.5) cat", "");
        // fake encoder: hidden[t][c] = id(t) + c/1000; red is token 2
        double before = 0;
        double after = 0;
        for (int t = 0; t < 77; t++) {
            for (int c = 0; c < 2; c++) {
                before += plain.positive()[t * 2 + c];
                after += plain.positive()[t * 2 + c] * (t == 2 ? 1.5 : 1.0);
            }
        }
        float ratio = (float) (before / after);
        assertEquals(plain.positive()[2 * 2] * 1.5f * ratio, weighted.positive()[2 * 2], 1e-2f);
        assertEquals(plain.positive()[3 * 2] * ratio, weighted.positive()[3 * 2], 1e-2f);
        double mean = 0;
        for (float v : weighted.positive()) {
            mean += v;
        }
        assertEquals(before, mean, Math.abs(before) * 1e-5, "the mean is restored");
        assertArrayEquals(plain.negative(), weighted.negative(), "the negative prompt is untouched");
    }

    @Test
    void promptEditingGivesOneConditioningPerSegment() {
        ClipConditionerTest.FakeTextModel model = new ClipConditionerTest.FakeTextModel(sd15, 77, 2);
        List<ScheduledConditioning> s = conditioner.schedule(model, "a [red:blue:5] cat", "[dog:3]", 20);
        assertEquals(List.of(3, 5, 20), s.stream().map(ScheduledConditioning::untilStep).toList());
        long red = id("red");
        long blue = id("blue");
        assertEquals(red, s.get(0).conditioning().positive()[2 * 2], 1e-2);
        assertEquals(red, s.get(1).conditioning().positive()[2 * 2], 1e-2);
        assertEquals(blue, s.get(2).conditioning().positive()[2 * 2], 1e-2);
        assertEquals(tokenizer.eosId(), s.get(0).conditioning().negative()[1 * 2], 1e-2, "empty negative until 3");
        assertEquals(id("dog"), s.get(1).conditioning().negative()[1 * 2], 1e-2);
        // one encoder batch for everything: 2 prompt texts + 2 negative texts
        assertEquals(1, model.calls.size());
        assertEquals(4 * 77, model.calls.get(0).length);
    }

    @Test
    void countsTokensAsA1111() {
        ClipConditionerTest.FakeTextModel model = new ClipConditionerTest.FakeTextModel(sd15, 77, 2);
        assertEquals(2, conditioner.countTokens(model, "((cat:1.3)) [dog]"));
        assertEquals(4, conditioner.countTokens(model, "a [cat:big dog:0.5] x"), "the longest text of the schedule");
        assertEquals(75 + 1, conditioner.countTokens(model, "cat BREAK dog"));
    }
}
