package io.jdiffusion.toyworld;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A plain CLIP byte-level BPE tokenizer over a {@code vocab.json} + {@code merges.txt} pair, written the way
 * OpenAI's {@code simple_tokenizer.py} is (no ftfy / html unescaping). It is here for tests and tools; the
 * server's real tokenizer lives in the conditioning plugin.
 */
public final class ToyTokenizer {
    public static final int MODEL_MAX_LENGTH = 77;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final Map<String, Integer> ranks = new HashMap<>();
    private final Map<String, List<String>> cache = new ConcurrentHashMap<>();
    private final int bos;
    private final int eos;

    /**
     * @param vocab  token string to id
     * @param merges merge pairs in rank order
     */
    public ToyTokenizer(Map<String, Integer> vocab, List<String[]> merges) {
        this.vocab = new LinkedHashMap<>(vocab);
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        idToToken = new String[max + 1];
        vocab.forEach((k, v) -> idToToken[v] = k);
        for (int i = 0; i < merges.size(); i++) ranks.putIfAbsent(key(merges.get(i)[0], merges.get(i)[1]), i);
        Integer b = vocab.get(ClipBpe.BOS), e = vocab.get(ClipBpe.EOS);
        if (b == null || e == null) throw new IllegalArgumentException("vocab lacks " + ClipBpe.BOS + " / " + ClipBpe.EOS);
        bos = b;
        eos = e;
    }

    /** Reads {@code vocab.json} and {@code merges.txt} from a tokenizer folder. */
    public static ToyTokenizer load(Path tokenizerDir) throws IOException {
        Map<String, Integer> vocab = new ObjectMapper().readValue(
                tokenizerDir.resolve("vocab.json").toFile(), new TypeReference<LinkedHashMap<String, Integer>>() { });
        List<String[]> merges = parseMerges(Files.readAllLines(tokenizerDir.resolve("merges.txt"), StandardCharsets.UTF_8));
        return new ToyTokenizer(vocab, merges);
    }

    /** Parses merges.txt lines: skips the {@code #version} header and blank lines. */
    public static List<String[]> parseMerges(List<String> lines) {
        List<String[]> out = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            String[] p = line.split(" ");
            if (p.length != 2) throw new IllegalArgumentException("bad merges line: " + line);
            out.add(p);
        }
        return out;
    }

    public int bosId() { return bos; }
    public int eosId() { return eos; }
    public int vocabSize() { return idToToken.length; }
    public Map<String, Integer> vocab() { return java.util.Collections.unmodifiableMap(vocab); }

    /** The id of a token string, or -1. */
    public int id(String token) {
        return vocab.getOrDefault(token, -1);
    }

    public String token(int id) {
        return idToToken[id];
    }

    /** BPE tokens of a text, without BOS/EOS. */
    public List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        for (String word : ClipBpe.preTokenize(text)) {
            if (word.equals(ClipBpe.BOS) || word.equals(ClipBpe.EOS)) {
                out.add(word);
                continue;
            }
            out.addAll(cache.computeIfAbsent(ClipBpe.byteEncode(word), this::bpe));
        }
        return out;
    }

    /** Ids of a text, without BOS/EOS. */
    public int[] encode(String text) {
        List<String> t = tokens(text);
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(t.get(i));
            if (id == null) throw new IllegalStateException("token not in vocab: " + t.get(i));
            ids[i] = id;
        }
        return ids;
    }

    /** BOS + ids + EOS, truncated to {@code length} (EOS kept last) and padded with EOS, as SD pipelines do. */
    public int[] encodePadded(String text, int length) {
        int[] ids = encode(text);
        int[] out = new int[length];
        Arrays.fill(out, eos);
        out[0] = bos;
        int n = Math.min(ids.length, length - 2);
        System.arraycopy(ids, 0, out, 1, n);
        out[n + 1] = eos;
        return out;
    }

    /** {@link #encodePadded(String, int)} to 77. */
    public int[] encodePadded(String text) {
        return encodePadded(text, MODEL_MAX_LENGTH);
    }

    /** Decodes ids back to text (a space at each word end), skipping BOS/EOS. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id != bos && id != eos) sb.append(idToToken[id]);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String word : sb.toString().split(ClipBpe.END_OF_WORD, -1)) {
            out.writeBytes(ClipBpe.byteDecode(word));
            out.write(' ');
        }
        return out.toString(StandardCharsets.UTF_8).strip();
    }

    private static String key(String a, String b) {
        return a + " " + b;
    }

    /** CLIP's bpe(): repeatedly merge the lowest-ranked adjacent pair, all its occurrences left to right. */
    private List<String> bpe(String encodedWord) {
        List<String> word = ClipBpe.initialSymbols(encodedWord);
        while (word.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(key(word.get(i), word.get(i + 1)));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            int i = 0;
            while (i < word.size()) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i));
                    i++;
                }
            }
            word = merged;
        }
        return List.copyOf(word);
    }
}
