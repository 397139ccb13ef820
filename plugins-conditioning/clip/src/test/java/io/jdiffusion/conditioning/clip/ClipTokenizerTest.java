package io.jdiffusion.conditioning.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@link ClipTokenizer} (HF fast tokenizer via DJL, real native library, real CLIP vocabulary)
 * against CLIP's reference ids and against a port of OpenAI's simple_tokenizer.py.
 *
 * <p>Where CLIP's own tokenizer and the HF fast tokenizer (so this one) are known to differ:
 * <ul>
 *   <li><b>ftfy.</b> CLIP runs {@code ftfy.fix_text} first; HF's fast tokenizer only does NFC.
 *       So with ftfy, CLIP turns curly quotes into straight ones ({@code it’s} -> {@code it's}, two
 *       tokens {@code it</w> 's</w>} instead of {@code it</w> ’</w> s</w>}), full-width letters
 *       into ASCII ({@code ＡＢＣ}), Latin ligatures into letters ({@code ﬁ} -> {@code fi}), repairs
 *       mojibake ({@code cafÃ©} -> {@code café}), drops control characters and normalises line
 *       breaks; HF (and we) tokenize all of those as written. Decomposed accents agree: ftfy and
 *       HF both apply NFC ({@link #decomposedAccentsAreComposedLikeFtfy}).</li>
 *   <li><b>HTML entities.</b> CLIP's basic_clean runs {@code html.unescape} twice ({@code R&amp;B}
 *       -> {@code R&B}); HF does not ({@link #htmlEntitiesAreNotUnescaped}).</li>
 *   <li><b>Greek final sigma.</b> HF's Lowercase normalizer maps {@code Σ} to {@code σ} char by
 *       char; Python's {@code str.lower()} gives {@code ς} at the end of a word. ClipTokenizer
 *       lowercases in Java (same rule as Python) before HF sees the text
 *       ({@link #greekFinalSigma}).</li>
 *   <li><b>{@code \s}.</b> Python's regex counts U+001C..U+001F as whitespace, Rust's (Unicode
 *       White_Space) does not. Irrelevant for prompts.</li>
 *   <li><b>Literal special tokens</b> glued to punctuation: CLIP's regex reads {@code '<|endoftext|>}
 *       as {@code '<|} {@code endoftext} {@code |>}, HF's added-token matcher finds the special
 *       token anywhere. Both agree when it stands alone ({@link #literalSpecialTokens}).</li>
 * </ul>
 */
class ClipTokenizerTest {

    @TempDir
    static Path tmp;

    static ClipTokenizer sd15;
    static ClipTokenizer sdxl2;
    static ReferenceClipTokenizer reference;

    static final List<String> TRICKY = List.of(
            // punctuation runs
            "wow!!! really?!... (masterpiece:1.2), [[best quality]] {{{ultra}}} -- ~~ @@ ## $$ %% ^^ && ** __ ++ == || \\\\ //",
            "!!!hello!!!", "a,b;c:d.e/f", "((((cat))))", "<lora:foo:0.8> (dog:1.3) [cat|dog] ...", "\"quoted\" 'single'",
            // numbers
            "8k", "1920x1080", "3.14", "4k uhd 60fps 2023 1,000,000", "½ ² ① ٣ ४", "v1.5 sd2.1 sdxl1.0",
            // accents
            "café naïve", "crème brûlée Ångström façade São Paulo Zürich", "ÉCOLE À PARIS",
            // emoji
            "🔥 fire 🐱", "❤️ love 👨‍👩‍👧 family 🏳️‍🌈 flag", "🐱🐱🐱", "a👍b",
            // non-Latin scripts
            "東京の夜景、ネオン、サイバーパンク", "山水画", "고양이 사진", "красивый закат над морем", "КРАСИВЫЙ ЗАКАТ",
            "غروب الشمس فوق البحر", "שלום עולם", "बिल्ली की तस्वीर", "แมวน่ารัก", "Ελληνικά γράμματα",
            // apostrophes
            "it's they're", "we've I'm you'll he'd don't can't", "rock 'n' roll", "''quoted''", "O'Neil's dog's bone",
            "IT'S THEY'RE", "'s 't 're 've 'm 'll 'd", "it’s curly",
            // whitespace
            "a  b\t\tc\n\nd \r\n e", "   padded   ", "\ttabbed\t", "nbsp\u00a0between\u3000ideographic\u2003em",
            "line one\nline two\n\n\nline three",
            // upper case
            "A PHOTOGRAPH OF AN ASTRONAUT RIDING A HORSE", "McDonald's iPhone eBay", "İstanbul STRASSE Straße",
            // empty and blank
            "", " ", "\n\t ",
            // odd characters
            "zero\u200bwidth", "tab\u0007bell", "mix of 日本 and english and 123",
            "ＡＢＣ full width", "ﬁne ligature", "caf\u00e9 precomposed");

    @BeforeAll
    static void load() throws IOException {
        Path dir = ClipFixtures.writeSd15(tmp.resolve("sd15/tokenizer"));
        sd15 = ClipFixtures.withForeignContextClassLoader(() -> ClipTokenizer.load(dir));
        sdxl2 = ClipTokenizer.load(ClipFixtures.writeSdxlTokenizer2(tmp.resolve("sdxl/tokenizer_2")));
        reference = new ReferenceClipTokenizer(ClipFixtures.merges(), ClipFixtures.vocab());
    }

    @AfterAll
    static void close() {
        sd15.close();
        sdxl2.close();
    }

    @Test
    void vocabularyIsTheRealOne() {
        assertEquals(49408, ClipFixtures.vocab().size());
        assertEquals(48894, ClipFixtures.merges().size());
        assertEquals(0, ClipFixtures.vocab().get("!"));
        assertEquals(256, ClipFixtures.vocab().get("!</w>"));
        assertEquals(49406, ClipFixtures.vocab().get(ClipFixtures.BOS));
        assertEquals(49407, ClipFixtures.vocab().get(ClipFixtures.EOS));
    }

    @Test
    void specialTokenIdsComeFromTheFiles() {
        assertEquals(49406, sd15.bosId());
        assertEquals(49407, sd15.eosId());
        assertEquals(49407, sd15.padId());
        assertEquals(49407, sd15.unkId());
        assertEquals(49406, sdxl2.bosId());
        assertEquals(49407, sdxl2.eosId());
        assertEquals(0, sdxl2.padId());
    }

    @Test
    void matchesEveryReferenceExample() throws IOException {
        JsonNode examples = new ObjectMapper().readTree(ClipFixtures.referenceDir().resolve("examples.json").toFile());
        int checked = 0;
        for (JsonNode example : examples) {
            String prompt = example.get("prompt").asText();
            List<Integer> expected = new ArrayList<>();
            example.get("ids").forEach(id -> expected.add(id.asInt()));
            assertEquals(expected, sd15.ids(prompt), prompt);
            assertEquals(expected, sdxl2.ids(prompt), prompt);
            assertEquals(expected, reference.encodeWithSpecials(prompt), "oracle: " + prompt);
            assertEquals(expected.size() - 2, sd15.countTokens(prompt), prompt);
            checked++;
        }
        assertTrue(checked >= 3, "examples.json held " + checked + " prompts");
        System.out.println("[clip] reference examples matched: " + checked);
    }

    @Test
    void matchesClipReferenceOnTrickyPrompts() {
        List<String> mismatches = new ArrayList<>();
        for (String prompt : TRICKY) {
            List<Integer> expected = reference.encodeWithSpecials(prompt);
            List<Integer> actual = sd15.ids(prompt);
            if (!expected.equals(actual)) {
                mismatches.add(printable(prompt) + "\n   clip " + expected + "\n   djl  " + actual);
            }
            assertEquals(expected.subList(1, expected.size() - 1), sd15.contentIds(prompt), printable(prompt));
            assertEquals(expected.size() - 2, sd15.countTokens(prompt), printable(prompt));
        }
        assertTrue(mismatches.isEmpty(), "HF tokenizer differs from CLIP on:\n" + String.join("\n", mismatches));
        System.out.println("[clip] tricky prompts matched: " + TRICKY.size());
    }

    @Test
    void emptyPromptIsBosEos() {
        assertEquals(List.of(49406, 49407), sd15.ids(""));
        assertEquals(List.of(49406, 49407), sd15.ids(null));
        assertEquals(0, sd15.countTokens(""));
        long[] padded = sd15.encodePadded("", 77);
        assertEquals(77, padded.length);
        assertEquals(49406, padded[0]);
        for (int i = 1; i < 77; i++) {
            assertEquals(49407, padded[i]);
        }
    }

    @Test
    void longPromptIsNotTruncatedByIdsAndTruncatedByEncodePadded() {
        String prompt = "masterpiece, best quality, highly detailed photograph of a red fox in a snowy forest, ".repeat(12);
        List<Integer> expected = reference.encodeWithSpecials(prompt);
        List<Integer> ids = sd15.ids(prompt);
        assertTrue(expected.size() > 77, "prompt has " + expected.size() + " tokens");
        assertEquals(expected, ids);

        long[] padded = sd15.encodePadded(prompt, 77);
        assertEquals(77, padded.length);
        for (int i = 0; i < 76; i++) {
            assertEquals(expected.get(i).longValue(), padded[i], "position " + i);
        }
        assertEquals(49407, padded[76], "EOS kept last");

        // far beyond DJL's default 512-token truncation
        String huge = "cat ".repeat(1000);
        assertEquals(1002, sd15.ids(huge).size());
        assertEquals(1000, sd15.countTokens(huge));
    }

    @Test
    void encodePaddedPadsWithThePadIdOfTheFiles() {
        List<Integer> ids = sd15.ids("a red circle on a white background");
        long[] sd = sd15.encodePadded("a red circle on a white background", 77);
        long[] xl = sdxl2.encodePadded("a red circle on a white background", 77);
        for (int i = 0; i < 77; i++) {
            long expectedSd = i < ids.size() ? ids.get(i) : 49407;
            long expectedXl = i < ids.size() ? ids.get(i) : 0;
            assertEquals(expectedSd, sd[i], "sd15 position " + i);
            assertEquals(expectedXl, xl[i], "sdxl position " + i);
        }
        // exactly full: no padding, nothing cut
        String prompt = "cat ".repeat(75);
        long[] full = sd15.encodePadded(prompt, 77);
        assertEquals(sd15.ids(prompt).stream().mapToLong(Integer::longValue).boxed().collect(Collectors.toList()),
                java.util.Arrays.stream(full).boxed().collect(Collectors.toList()));
        assertThrows(IllegalArgumentException.class, () -> sd15.encodePadded("x", 1));
    }

    @Test
    void padTokenStaysOrdinaryText() {
        // SDXL's tokenizer_2 pads with "!" (id 0), but a "!" in a prompt is CLIP's "!</w>" (256)
        List<Integer> expected = reference.encodeWithSpecials("hello! wow!!");
        assertEquals(expected, sdxl2.ids("hello! wow!!"));
        assertTrue(expected.contains(256));
        long[] padded = sdxl2.encodePadded("hello!", 8);
        assertArrayEquals(new long[] {49406, ClipFixtures.vocab().get("hello</w>"), 256, 49407, 0, 0, 0, 0}, padded);
    }

    @Test
    void bareFolderDefaultsPadToEos() throws IOException {
        try (ClipTokenizer bare = ClipTokenizer.load(ClipFixtures.writeBare(tmp.resolve("bare")))) {
            assertEquals(49406, bare.bosId());
            assertEquals(49407, bare.eosId());
            assertEquals(49407, bare.padId());
            assertEquals(sd15.ids("an apple"), bare.ids("an apple"));
            assertEquals(49407, bare.encodePadded("an apple", 10)[9]);
        }
    }

    @Test
    void addedTokensFileIsHonoured() throws IOException {
        Path dir = ClipFixtures.writeSd15(tmp.resolve("added"));
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<my-style>\": 49408}");
        try (ClipTokenizer t = ClipTokenizer.load(dir)) {
            List<Integer> ids = t.ids("a cat in <my-style>");
            assertEquals(49408, ids.get(ids.size() - 2));
            assertEquals(sd15.ids("a cat in"), t.ids("a cat in"));
        }
    }

    @Test
    void literalSpecialTokens() {
        for (String prompt : List.of("a <|endoftext|> b", "<|startoftext|>x", "A <|ENDOFTEXT|> B")) {
            assertEquals(reference.encodeWithSpecials(prompt), sd15.ids(prompt), prompt);
        }
        assertEquals(List.of(49406, 320, 49407, ClipFixtures.vocab().get("b</w>"), 49407), sd15.ids("a <|endoftext|> b"));
    }

    @Test
    void decomposedAccentsAreComposedLikeFtfy() {
        String decomposed = "cafe\u0301 nai\u0308ve";
        String composed = Normalizer.normalize(decomposed, Normalizer.Form.NFC);
        // HF applies NFC, as CLIP's ftfy.fix_text does; the ftfy-less oracle needs it done first
        assertEquals(reference.encodeWithSpecials(composed), sd15.ids(decomposed));
        assertNotEquals(reference.encodeWithSpecials(decomposed), sd15.ids(decomposed));
    }

    @Test
    void htmlEntitiesAreNotUnescaped() {
        // known difference: CLIP's basic_clean html-unescapes (twice), the HF fast tokenizer does not
        String prompt = "R&amp;B singer, Tom &amp;amp; Jerry &#39;quoted&#39;";
        ReferenceClipTokenizer noUnescape = new ReferenceClipTokenizer(ClipFixtures.merges(), ClipFixtures.vocab(), false);
        assertEquals(noUnescape.encodeWithSpecials(prompt), sd15.ids(prompt));
        assertNotEquals(reference.encodeWithSpecials(prompt), sd15.ids(prompt));
    }

    @Test
    void greekFinalSigma() {
        // Python's str.lower() (and Java's) turn a word-final capital sigma into ς; HF's Lowercase
        // normalizer gives σ. ClipTokenizer lowercases in Java first, so it follows CLIP.
        for (String prompt : List.of("ΟΔΟΣ ΣΟΦΙΑΣ", "ΣΑΣ", "Σ", "ΟΔΟΣ.")) {
            assertEquals(reference.encodeWithSpecials(prompt), sd15.ids(prompt), prompt);
        }
    }

    @Test
    void isThreadSafe() {
        List<String> prompts = IntStream.range(0, 400).mapToObj(i -> TRICKY.get(i % TRICKY.size()) + " " + i)
                .collect(Collectors.toList());
        List<List<Integer>> sequential = prompts.stream().map(sd15::ids).collect(Collectors.toList());
        List<List<Integer>> parallel = prompts.parallelStream().map(sd15::ids).collect(Collectors.toList());
        assertEquals(sequential, parallel);
    }

    @Test
    void closedTokenizerRefusesWork() throws IOException {
        ClipTokenizer t = ClipTokenizer.load(tmp.resolve("sd15/tokenizer"));
        assertEquals(sd15.ids("dog"), t.ids("dog"));
        t.close();
        t.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> t.ids("dog"));
    }

    @Test
    void missingFilesAreReported() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> ClipTokenizer.load(empty));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
    }

    @Test
    void cacheKeepsOneTokenizerPerFolder() throws IOException {
        ClipTokenizerCache cache = new ClipTokenizerCache();
        Path dir = tmp.resolve("sd15/tokenizer");
        ClipTokenizer a = cache.get(dir);
        assertSame(a, cache.get(dir.resolve("../tokenizer")));
        assertEquals(1, cache.size());
        cache.evict(dir);
        assertThrows(IllegalStateException.class, () -> a.ids("x"));
        ClipTokenizer b = cache.get(dir);
        assertEquals(sd15.ids("x"), b.ids("x"));
        assertThrows(UncheckedIOException.class, () -> cache.get(tmp.resolve("nowhere")));
        cache.close();
        assertEquals(0, cache.size());
        assertThrows(IllegalStateException.class, () -> b.ids("x"));
        assertThrows(IllegalStateException.class, () -> cache.get(dir));
    }

    @Test
    void definitionMirrorsClipConverter() throws IOException {
        ClipTokenizer.Definition def = ClipTokenizer.Definition.read(tmp.resolve("sdxl/tokenizer_2"));
        JsonNode json = def.toTokenizerJson();
        assertEquals(48894, json.at("/model/merges").size());
        assertEquals(49408, json.at("/model/vocab").size());
        assertEquals("</w>", json.at("/model/end_of_word_suffix").asText());
        assertEquals("RobertaProcessing", json.at("/post_processor/type").asText());
        // only BOS/EOS(=UNK) are added tokens; the pad "!" is not
        assertEquals(2, json.get("added_tokens").size());
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('"').toString();
    }
}
