package io.jdiffusion.conditioning.a1111;

import io.jdiffusion.api.WeightedText;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's {@code parse_prompt_attention} (modules/prompt_parser.py), token for token:
 * {@code (a)} x1.1, {@code [a]} /1.1, {@code (a:1.5)}, escapes {@code \( \) \[ \] \\}, and
 * {@code BREAK}. Brackets left open at the end apply to the rest of the prompt; a closing bracket
 * with nothing open is plain text. So no prompt is ever an error.
 */
final class Attention {
    /** re_attention, in its order: escapes, openers, {@code :weight)}, closers, text, a lone colon. */
    private static final Pattern TOKEN = Pattern.compile(
            "\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|[^\\\\()\\[\\]:]+|:",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*",
            Pattern.DOTALL | Pattern.UNICODE_CHARACTER_CLASS);
    private static final double ROUND = 1.1;
    private static final double SQUARE = 1 / 1.1;

    private Attention() {
    }

    /** One entry of A1111's result list: text and weight; BREAK is ("BREAK", -1) until the end. */
    private static final class Entry {
        String text;
        double weight;

        Entry(String text, double weight) {
            this.text = text;
            this.weight = weight;
        }
    }

    static List<WeightedText> parse(String prompt) {
        List<Entry> res = new ArrayList<>();
        List<Integer> round = new ArrayList<>();
        List<Integer> square = new ArrayList<>();
        Matcher m = TOKEN.matcher(prompt);
        while (m.find()) {
            String text = m.group();
            Double weight = number(m.group(1));
            if (text.startsWith("\\")) {
                res.add(new Entry(text.substring(1), 1.0));
            } else if (text.equals("(")) {
                round.add(res.size());
            } else if (text.equals("[")) {
                square.add(res.size());
            } else if (weight != null && !round.isEmpty()) {
                multiply(res, round.remove(round.size() - 1), weight);
            } else if (text.equals(")") && !round.isEmpty()) {
                multiply(res, round.remove(round.size() - 1), ROUND);
            } else if (text.equals("]") && !square.isEmpty()) {
                multiply(res, square.remove(square.size() - 1), SQUARE);
            } else {
                String[] parts = BREAK.split(text, -1);
                for (int i = 0; i < parts.length; i++) {
                    if (i > 0) {
                        res.add(new Entry("BREAK", -1));
                    }
                    res.add(new Entry(parts[i], 1.0));
                }
            }
        }
        // still open at the end: each applies from where it opened (in the order they opened)
        for (int pos : round) {
            multiply(res, pos, ROUND);
        }
        for (int pos : square) {
            multiply(res, pos, SQUARE);
        }
        if (res.isEmpty()) {
            res.add(new Entry("", 1.0));
        }
        int i = 0; // merge runs of identical weights (exact comparison, as A1111 does)
        while (i + 1 < res.size()) {
            if (res.get(i).weight == res.get(i + 1).weight) {
                res.get(i).text += res.get(i + 1).text;
                res.remove(i + 1);
            } else {
                i++;
            }
        }
        List<WeightedText> out = new ArrayList<>(res.size());
        for (Entry e : res) {
            // A1111 tests exactly this pair: a BREAK inside brackets had its -1 scaled and is plain text
            out.add(e.text.equals("BREAK") && e.weight == -1 ? WeightedText.BREAK : WeightedText.of(e.text, e.weight));
        }
        return out;
    }

    /**
     * The weight of {@code :1.5)}, or null. Python's float() would raise on "1.2.3" or "." and fail
     * the whole request; here such a token stays plain text instead.
     */
    private static Double number(String s) {
        if (s == null) {
            return null;
        }
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void multiply(List<Entry> res, int from, double multiplier) {
        for (int p = from; p < res.size(); p++) {
            res.get(p).weight *= multiplier;
        }
    }
}
