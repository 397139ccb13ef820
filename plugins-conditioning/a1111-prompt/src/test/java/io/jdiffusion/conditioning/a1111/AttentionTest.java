package io.jdiffusion.conditioning.a1111;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.WeightedText;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** parse_prompt_attention's doctests (A1111 modules/prompt_parser.py) and its edge cases. */
class AttentionTest {

    /** A1111's result shape: [[text, weight], ...], BREAK as ["BREAK", -1]. */
    private static List<List<Object>> parse(String prompt) {
        List<List<Object>> out = new ArrayList<>();
        for (WeightedText w : new A1111PromptParser().weights(prompt)) {
            out.add(List.of(w.text(), w.weight()));
        }
        return out;
    }

    private static List<Object> p(String text, double weight) {
        return List.of(text, weight);
    }

    @Test
    void doctests() {
        assertEquals(List.of(p("normal text", 1.0)), parse("normal text"));
        assertEquals(List.of(p("an ", 1.0), p("important", 1.1), p(" word", 1.0)), parse("an (important) word"));
        assertEquals(List.of(p("unbalanced", 1.1)), parse("(unbalanced"));
        assertEquals(List.of(p("(literal]", 1.0)), parse("\\(literal\\]"));
        assertEquals(List.of(p("unnecessaryparens", 1.1)), parse("(unnecessary)(parens)"));
        assertEquals(List.of(
                p("a ", 1.0),
                p("house", 1.5730000000000004),
                p(" ", 1.1),
                p("on", 1.0),
                p(" a ", 1.1),
                p("hill", 0.55),
                p(", sun, ", 1.1),
                p("sky", 1.4641000000000006),
                p(".", 1.1)), parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."));
    }

    @Test
    void bracketsAndWeights() {
        assertEquals(List.of(p("word", 1.1)), parse("(word)"));
        assertEquals(List.of(p("word", 1.2100000000000002)), parse("((word))"));
        assertEquals(List.of(p("word", 1 / 1.1)), parse("[word]"));
        assertEquals(List.of(p("word", 1.5)), parse("(word:1.5)"));
        assertEquals(List.of(p("word", 1.5)), parse("(word: 1.5 )"));
        assertEquals(List.of(p("a ", 1.0), p("red", 1.5), p(" and blue", 1.0)), parse("a (red:1.5) and blue"));
        assertEquals(List.of(p("", 1.0)), parse(""));
        // a closer with nothing open is text; an opener never closed weights the rest
        assertEquals(List.of(p("a) b] c", 1.0)), parse("a) b] c"));
        assertEquals(List.of(p("a ", 1.0), p("b c", 1 / 1.1)), parse("a [b c"));
        // a colon that is no weight is text, inside brackets too
        assertEquals(List.of(p("a:b", 1.1)), parse("(a:b)"));
        // "(a:1.2.3)" makes Python's float() fail the request; here it stays text
        assertEquals(List.of(p("a:1.2.3)", 1.1)), parse("(a:1.2.3)"));
        assertEquals(List.of(p("\\x", 1.0)), parse("\\\\x"));
    }

    @Test
    void breakSplitsChunks() {
        List<WeightedText> w = new A1111PromptParser().weights("a cat BREAK a dog");
        assertEquals(List.of(WeightedText.of("a cat", 1.0), WeightedText.BREAK, WeightedText.of("a dog", 1.0)), w);
        assertEquals(List.of(WeightedText.of("", 1.0), WeightedText.BREAK, WeightedText.of("x", 1.0)),
                new A1111PromptParser().weights("BREAK x"));
        // only the whole word: "BREAKING" is text
        assertEquals(List.of(WeightedText.of("BREAKING news", 1.0)), new A1111PromptParser().weights("BREAKING news"));
        // inside brackets A1111 scales the marker's -1 and then takes it as the word "BREAK"
        List<WeightedText> inside = new A1111PromptParser().weights("(a BREAK b)");
        assertEquals(List.of(WeightedText.of("a", 1.1), WeightedText.of("BREAK", -1.1), WeightedText.of("b", 1.1)), inside);
    }
}
