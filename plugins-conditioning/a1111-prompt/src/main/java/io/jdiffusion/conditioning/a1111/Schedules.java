package io.jdiffusion.conditioning.a1111;

import io.jdiffusion.api.ScheduledPrompt;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's {@code get_learned_conditioning_prompt_schedules} (modules/prompt_parser.py,
 * without hires fix, new scheduling): prompt editing {@code [from:to:when]}, {@code [to:when]},
 * {@code [from::when]} and alternation {@code [a|b]}. A1111 parses with this Lark grammar:
 * <pre>
 * !start: (prompt | /[][():]/+)*
 * prompt: (emphasized | scheduled | alternate | plain | WHITESPACE)*
 * !emphasized: "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"
 * scheduled: "[" [prompt ":"] prompt ":" [WHITESPACE] NUMBER [WHITESPACE] "]"
 * alternate: "[" prompt ("|" [prompt])+ "]"
 * WHITESPACE: /\s+/
 * plain: /([^\\\[\]():|]|\\.)+/
 * </pre>
 * Here the same grammar is a recursive descent: at every bracket a structure is tried first and,
 * only at the top level, a bracket or colon that closes nothing is kept as text (with one
 * ambiguity resolved as Lark resolves it, see {@link Parser#start()}). A {@code |}
 * outside alternation (or a lone trailing backslash) is a syntax error, and then, as in A1111,
 * the whole prompt is taken literally for every step. Emphasis brackets stay in the text: they
 * are {@link Attention}'s business.
 */
final class Schedules {
    /** Lark's SIGNED_NUMBER, alternatives in Lark's order (a regex match, not the longest). */
    private static final Pattern NUMBER = Pattern.compile(
            "[+-]?(?:\\d+[eE][+-]?\\d+|(?:\\d+\\.\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?|\\d+)");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private Schedules() {
    }

    static List<ScheduledPrompt> schedule(String prompt, int steps) {
        Node tree;
        try {
            tree = new Parser(prompt, steps).start();
        } catch (StackOverflowError e) { // brackets nested thousands deep: as a syntax error, literal text
            tree = null;
        }
        if (tree == null) {
            return List.of(new ScheduledPrompt(steps, prompt));
        }
        TreeSet<Integer> ends = new TreeSet<>();
        ends.add(steps);
        tree.collect(ends, steps);
        List<ScheduledPrompt> out = new ArrayList<>(ends.size());
        for (int step : ends) {
            StringBuilder sb = new StringBuilder();
            tree.text(step, sb);
            out.add(new ScheduledPrompt(step, sb.toString()));
        }
        return out;
    }

    /** A parse tree node that can say its text at a step and which steps it changes at. */
    private interface Node {
        void text(int step, StringBuilder out);

        default void collect(TreeSet<Integer> ends, int steps) {
        }
    }

    private record Text(String value) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
            out.append(value);
        }
    }

    private record Seq(List<Node> items) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
            items.forEach(n -> n.text(step, out));
        }

        @Override
        public void collect(TreeSet<Integer> ends, int steps) {
            items.forEach(n -> n.collect(ends, steps));
        }
    }

    /** {@code (a)}, {@code (a:b)} or {@code [a]}, kept as written (its insides may still change). */
    private record Emphasized(Seq written) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
            written.text(step, out);
        }

        @Override
        public void collect(TreeSet<Integer> ends, int steps) {
            written.collect(ends, steps);
        }
    }

    /** {@code [before:after:when]}; before is null for {@code [after:when]}. */
    private record Scheduled(Node before, Node after, int when) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
            if (step <= when) {
                if (before != null) {
                    before.text(step, out);
                }
            } else {
                after.text(step, out);
            }
        }

        @Override
        public void collect(TreeSet<Integer> ends, int steps) {
            if (before != null) {
                before.collect(ends, steps);
            }
            after.collect(ends, steps);
            if (when >= 1) {
                ends.add(when);
            }
        }
    }

    /** {@code [a|b|...]}: option (step - 1) mod n at each step. */
    private record Alternate(List<Node> options) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
            options.get(Math.floorMod(step - 1, options.size())).text(step, out);
        }

        @Override
        public void collect(TreeSet<Integer> ends, int steps) {
            options.forEach(n -> n.collect(ends, steps));
            for (int s = 1; s <= steps; s++) {
                ends.add(s);
            }
        }
    }

    private static final class Parser {
        private final String s;
        private final int steps;
        /** structure(pos) by position: a group parses the same wherever it is reached from. */
        private final Parsed[] groups;
        private final boolean[] tried;

        Parser(String s, int steps) {
            this.s = s;
            this.steps = steps;
            this.groups = new Parsed[s.length()];
            this.tried = new boolean[s.length()];
        }

        /**
         * Whether Lark reads a top-level group followed by {@code strays} stray characters as text
         * instead. The grammar is ambiguous there (group, or brackets and colons as text), and
         * Lark's Earley resolution goes by parity: an editing group is text before an even run
         * ({@code [x:y:2]]]} is literal, {@code [x:y:2]]]]} is edited); alternation and emphasis stay
         * groups. Measured against Lark 1.3.1 on 6000 random prompts (SchedulesTest); 3 of them still
         * differ, where Lark also reads an emphasis group next to strays as text (no simple rule found).
         */
        private static boolean readAsText(Node group, int strays) {
            return group instanceof Scheduled && strays >= 2 && strays % 2 == 0;
        }

        /**
         * The whole prompt, or null on a syntax error. Decided from the end backwards: whether a
         * group is read as text depends on the stray characters after it ({@link #readAsText}),
         * and a group read as text turns its own brackets into strays for the group before it.
         */
        Node start() {
            int n = s.length();
            Parsed[] taken = new Parsed[n + 1]; // what the parse takes at each position (null: one stray char)
            int[] strays = new int[n + 1];      // stray characters in a row from each position
            boolean[] error = new boolean[n + 1];
            for (int pos = n - 1; pos >= 0; pos--) {
                char c = s.charAt(pos);
                if (c == '[' || c == '(') {
                    Parsed p = structure(pos);
                    if (p != null && !readAsText(p.node, strays[p.end])) {
                        taken[pos] = p;
                        continue;
                    }
                    strays[pos] = 1 + strays[pos + 1];
                } else if (c == ']' || c == ')' || c == ':') {
                    strays[pos] = 1 + strays[pos + 1];
                } else {
                    int end = plain(pos);
                    if (end == pos) {
                        error[pos] = true; // '|' outside alternation, or a backslash escaping nothing
                    } else {
                        taken[pos] = new Parsed(new Text(s.substring(pos, end)), end);
                    }
                }
            }
            List<Node> items = new ArrayList<>();
            for (int pos = 0; pos < n; ) {
                if (error[pos]) {
                    return null;
                }
                if (taken[pos] == null) {
                    items.add(new Text(String.valueOf(s.charAt(pos)))); // closes or opens nothing: kept as written
                    pos++;
                } else {
                    items.add(taken[pos].node);
                    pos = taken[pos].end;
                }
            }
            return new Seq(items);
        }

        private record Parsed(Node node, int end) {
        }

        /** prompt: text and structures up to the first character that neither can take. */
        private Parsed prompt(int pos) {
            List<Node> items = new ArrayList<>();
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == '[' || c == '(') {
                    Parsed p = structure(pos);
                    if (p == null) {
                        break;
                    }
                    items.add(p.node);
                    pos = p.end;
                } else {
                    int end = plain(pos);
                    if (end == pos) {
                        break;
                    }
                    items.add(new Text(s.substring(pos, end)));
                    pos = end;
                }
            }
            return new Parsed(new Seq(items), pos);
        }

        /** End of the plain run at pos: anything but \ [ ] ( ) : | and a backslash with any char but newline. */
        private int plain(int pos) {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == '\\') {
                    if (pos + 1 < s.length() && s.charAt(pos + 1) != '\n') {
                        pos += 2;
                        continue;
                    }
                    break;
                }
                if (c == '[' || c == ']' || c == '(' || c == ')' || c == ':' || c == '|') {
                    break;
                }
                pos++;
            }
            return pos;
        }

        private char at(int pos) {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        /** An emphasized, scheduled or alternate group starting at the bracket at pos, or null. */
        private Parsed structure(int pos) {
            if (!tried[pos]) {
                groups[pos] = parseStructure(pos);
                tried[pos] = true;
            }
            return groups[pos];
        }

        private Parsed parseStructure(int pos) {
            char open = s.charAt(pos);
            Parsed first = prompt(pos + 1);
            int at = first.end;
            if (open == '(') {
                if (at(at) == ')') {
                    return verbatim(pos, at + 1, first.node);
                }
                if (at(at) == ':') {
                    Parsed second = prompt(at + 1);
                    if (at(second.end) == ')') {
                        return verbatim(pos, second.end + 1, first.node, second.node);
                    }
                }
                return null;
            }
            switch (at(at)) {
                case ']':
                    return verbatim(pos, at + 1, first.node);
                case '|': {
                    List<Node> options = new ArrayList<>();
                    options.add(first.node);
                    while (at(at) == '|') {
                        Parsed option = prompt(at + 1);
                        options.add(option.node);
                        at = option.end;
                    }
                    return at(at) == ']' ? new Parsed(new Alternate(options), at + 1) : null;
                }
                case ':': {
                    Parsed when = when(at + 1);
                    if (when != null) { // [to:when]
                        return new Parsed(new Scheduled(null, first.node, ((When) when.node).when), when.end);
                    }
                    Parsed second = prompt(at + 1);
                    if (at(second.end) == ':') {
                        when = when(second.end + 1);
                        if (when != null) { // [from:to:when]
                            return new Parsed(new Scheduled(first.node, second.node, ((When) when.node).when), when.end);
                        }
                    }
                    return null;
                }
                default:
                    return null;
            }
        }

        /**
         * An emphasized group is kept as written, brackets and colon included, but its insides are
         * still parsed: they may hold prompt editing.
         */
        private Parsed verbatim(int start, int end, Node... parts) {
            List<Node> items = new ArrayList<>();
            items.add(new Text(String.valueOf(s.charAt(start))));
            for (int i = 0; i < parts.length; i++) {
                if (i > 0) {
                    items.add(new Text(":"));
                }
                items.add(parts[i]);
            }
            items.add(new Text(String.valueOf(s.charAt(end - 1))));
            return new Parsed(new Emphasized(new Seq(items)), end);
        }

        /** [WHITESPACE] NUMBER [WHITESPACE] "]" at pos, as the step it names. */
        private Parsed when(int pos) {
            pos = skipWhitespace(pos);
            Matcher m = NUMBER.matcher(s).region(pos, s.length());
            if (!m.lookingAt()) {
                return null;
            }
            int end = skipWhitespace(m.end());
            if (at(end) != ']') {
                return null;
            }
            return new Parsed(new When(step(m.group())), end + 1);
        }

        private int skipWhitespace(int pos) {
            Matcher m = WHITESPACE.matcher(s).region(pos, s.length());
            return m.lookingAt() ? m.end() : pos;
        }

        /**
         * A1111: a number with a dot is a fraction of the steps, one without a step number; truncated
         * toward zero and capped at the steps. Below 1 it changes nothing at any step boundary.
         */
        private int step(String number) {
            double v = Double.parseDouble(number);
            if (number.contains(".")) {
                v *= steps;
            }
            long truncated = (long) v; // Python int(): toward zero (saturating here instead of overflowing)
            return (int) Math.max(Integer.MIN_VALUE, Math.min(steps, truncated));
        }
    }

    /** The parsed step of a schedule, carried from when() to structure(). */
    private record When(int when) implements Node {
        @Override
        public void text(int step, StringBuilder out) {
        }
    }
}
