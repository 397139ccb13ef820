package io.jdiffusion.toyworld;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void vocabIdsAreLaidOutLikeClips() throws Exception {
        Path tok = ToyFixture.get().dir.resolve("tokenizer");
        Map<String, Integer> vocab = JSON.readValue(tok.resolve("vocab.json").toFile(),
                new TypeReference<LinkedHashMap<String, Integer>>() { });
        List<String> lines = Files.readAllLines(tok.resolve("merges.txt"), StandardCharsets.UTF_8);
        assertEquals("#version: 0.2", lines.get(0));
        List<String[]> merges = ToyTokenizer.parseMerges(lines);
        int v = vocab.size();
        assertEquals(512 + merges.size() + 2, v);
        List<String> bytes = ClipBpe.byteSymbols();
        assertEquals("!", bytes.get(0));
        assertEquals("Ā", bytes.get(188));   // byte 0, the first unprintable one
        assertEquals("Ġ", bytes.get(220));   // the space byte
        for (int i = 0; i < 256; i++) {
            assertEquals(i, vocab.get(bytes.get(i)));
            assertEquals(256 + i, vocab.get(bytes.get(i) + "</w>"));
        }
        for (int i = 0; i < merges.size(); i++) assertEquals(512 + i, vocab.get(merges.get(i)[0] + merges.get(i)[1]));
        assertEquals(v - 2, vocab.get("<|startoftext|>"));
        assertEquals(v - 1, vocab.get("<|endoftext|>"));
        // ids are exactly 0..V-1
        assertEquals(v, vocab.values().stream().distinct().count());
        assertEquals(v - 1, vocab.values().stream().mapToInt(Integer::intValue).max().orElseThrow());
        assertTrue(v < 2000, "small: " + v);
    }

    @Test
    void worldWordsAreSingleTokens() {
        ToyTokenizer t = ToyFixture.get().tokenizer;
        for (String w : World.words()) {
            assertEquals(List.of(w + "</w>"), t.tokens(w), w);
            assertEquals(List.of(w + "</w>"), t.tokens(w.toUpperCase()), w);
        }
        assertEquals(List.of("a</w>", "red</w>", "circle</w>", "on</w>", "a</w>", "white</w>", "background</w>"),
                t.tokens("a red circle on a white background"));
        for (String w : List.of("a", "an", "the", "on", "of", "with", "picture", "photo"))
            assertEquals(1, t.tokens(w).size(), w);
    }

    @Test
    void unknownWordsBecomeBytePieces() {
        ToyTokenizer t = ToyFixture.get().tokenizer;
        List<String> pieces = t.tokens("astronaut");
        assertTrue(pieces.size() > 1, pieces.toString());
        assertEquals("astronaut</w>", String.join("", pieces));
        assertTrue(pieces.get(pieces.size() - 1).endsWith("</w>"));
        // digits split one by one, punctuation is its own word, UTF-8 goes through byte symbols
        assertEquals(List.of("8</w>", "k</w>"), t.tokens("8k"));
        assertEquals(List.of("red</w>", ",</w>", "star</w>"), t.tokens("red, star"));
        List<String> e = t.tokens("café");
        assertEquals("cafÃ©</w>", String.join("", e));
        assertEquals("a red circle , 8 k café", t.decode(t.encode("A red  circle, 8k café")));
    }

    @Test
    void paddedEncodingIsBosIdsEosPad() {
        ToyTokenizer t = ToyFixture.get().tokenizer;
        int[] ids = t.encodePadded("a blue star");
        assertEquals(77, ids.length);
        assertEquals(t.bosId(), ids[0]);
        assertEquals(t.id("blue</w>"), ids[2]);
        assertEquals(t.eosId(), ids[4]);
        for (int i = 4; i < 77; i++) assertEquals(t.eosId(), ids[i]);
        int[] empty = t.encodePadded("");
        assertEquals(t.bosId(), empty[0]);
        assertEquals(t.eosId(), empty[1]);
        int[] longOne = t.encodePadded("red ".repeat(100));
        assertEquals(t.eosId(), longOne[76]);
        assertEquals(t.id("red</w>"), longOne[75]);
    }

    @Test
    void specialTokenFiles() throws Exception {
        Path tok = ToyFixture.get().dir.resolve("tokenizer");
        JsonNode cfg = JSON.readTree(tok.resolve("tokenizer_config.json").toFile());
        assertEquals("CLIPTokenizer", cfg.get("tokenizer_class").asText());
        assertEquals(77, cfg.get("model_max_length").asInt());
        assertTrue(cfg.get("do_lower_case").asBoolean());
        assertEquals("<|startoftext|>", cfg.get("bos_token").asText());
        assertEquals("<|endoftext|>", cfg.get("eos_token").asText());
        assertEquals("<|endoftext|>", cfg.get("pad_token").asText());
        assertEquals("<|endoftext|>", cfg.get("unk_token").asText());
        int v = ToyFixture.get().tokenizer.vocabSize();
        assertEquals("<|startoftext|>", cfg.get("added_tokens_decoder").get(String.valueOf(v - 2)).get("content").asText());
        JsonNode sp = JSON.readTree(tok.resolve("special_tokens_map.json").toFile());
        assertEquals("<|startoftext|>", sp.get("bos_token").get("content").asText());
        assertEquals("<|endoftext|>", sp.get("eos_token").get("content").asText());
        assertEquals("<|endoftext|>", sp.get("unk_token").get("content").asText());
        assertEquals("<|endoftext|>", sp.get("pad_token").asText());
    }

    /** The same tokenizer code on CLIP's real merges gives CLIP's reference ids (when ../shared is there). */
    @Test
    void tokenizerCodeMatchesRealClip() throws Exception {
        String shared = System.getProperty("sd.shared.dir", "../../shared");
        Path ref = Path.of(shared, "reference", "clip");
        Assumptions.assumeTrue(Files.isRegularFile(ref.resolve("bpe_simple_vocab_16e6.txt.gz")), "no CLIP reference data");
        List<String[]> merges = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                Files.newInputStream(ref.resolve("bpe_simple_vocab_16e6.txt.gz"))), StandardCharsets.UTF_8))) {
            r.readLine(); // header
            for (int i = 0; i < 49152 - 256 - 2; i++) merges.add(r.readLine().split(" "));
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String b : ClipBpe.byteSymbols()) vocab.put(b, vocab.size());
        for (String b : ClipBpe.byteSymbols()) vocab.put(b + "</w>", vocab.size());
        for (String[] m : merges) vocab.put(m[0] + m[1], vocab.size());
        vocab.put("<|startoftext|>", vocab.size());
        vocab.put("<|endoftext|>", vocab.size());
        assertEquals(49408, vocab.size());
        ToyTokenizer clip = new ToyTokenizer(vocab, merges);
        JsonNode examples = JSON.readTree(ref.resolve("examples.json").toFile());
        for (JsonNode ex : examples) {
            int[] want = JSON.convertValue(ex.get("ids"), int[].class);
            int[] got = clip.encodePadded(ex.get("prompt").asText(), want.length);
            assertArrayEquals(want, got, ex.get("prompt").asText());
        }
    }
}
