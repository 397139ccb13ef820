package io.jdiffusion.conditioning.clip;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test oracle: a line-by-line Java port of OpenAI CLIP's {@code clip/simple_tokenizer.py}
 * (MIT, see shared/reference/clip/LICENSE-openai-clip), the tokenizer CLIP and Stable Diffusion
 * were trained with. Deliberately independent of the production code.
 *
 * <p>One part is left out: {@code basic_clean} first runs {@code ftfy.fix_text}, which this port
 * does not (there is no ftfy for Java). Here basic_clean is {@code html.unescape} twice (a
 * subset: the common named entities and numeric ones) and {@code strip()}.
 */
final class ReferenceClipTokenizer {

    private static final Pattern PAT = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern EDGE_WHITESPACE = Pattern.compile("^\\s+|\\s+$", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern ENTITY = Pattern.compile("&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);");
    private static final Map<String, String> NAMED_ENTITIES = Map.of(
            "amp", "&", "lt", "<", "gt", ">", "quot", "\"", "apos", "'", "nbsp", "\u00a0");

    private final Map<Integer, String> byteEncoder = bytesToUnicode();
    private final Map<String, Integer> encoder;
    private final Map<String, Integer> bpeRanks = new HashMap<>();
    private final Map<String, String> cache = new HashMap<>();
    private final boolean unescapeHtml;

    ReferenceClipTokenizer(List<String> merges, Map<String, Integer> encoder) {
        this(merges, encoder, true);
    }

    /** {@code unescapeHtml = false} skips basic_clean's html.unescape (as HF's fast tokenizer does). */
    ReferenceClipTokenizer(List<String> merges, Map<String, Integer> encoder, boolean unescapeHtml) {
        this.encoder = encoder;
        this.unescapeHtml = unescapeHtml;
        for (int i = 0; i < merges.size(); i++) {
            bpeRanks.put(merges.get(i), i); // "a b" -> rank
        }
        cache.put("<|startoftext|>", "<|startoftext|>");
        cache.put("<|endoftext|>", "<|endoftext|>");
    }

    /** bytes_to_unicode(): printable bytes map to themselves, the rest to 256 + n, in that order. */
    static Map<Integer, String> bytesToUnicode() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n);
                n++;
            }
        }
        Map<Integer, String> map = new LinkedHashMap<>();
        for (int i = 0; i < bs.size(); i++) {
            map.put(bs.get(i), new String(Character.toChars(cs.get(i))));
        }
        return map;
    }

    private static Set<String> getPairs(List<String> word) {
        Set<String> pairs = new LinkedHashSet<>();
        for (int i = 1; i < word.size(); i++) {
            pairs.add(word.get(i - 1) + " " + word.get(i));
        }
        return pairs;
    }

    static String basicClean(String text, boolean unescapeHtml) {
        // ftfy.fix_text(text) would come first: not ported (see class comment)
        if (unescapeHtml) {
            text = htmlUnescape(htmlUnescape(text));
        }
        return EDGE_WHITESPACE.matcher(text).replaceAll("");
    }

    static String whitespaceClean(String text) {
        text = WHITESPACE.matcher(text).replaceAll(" ");
        return EDGE_WHITESPACE.matcher(text).replaceAll("");
    }

    private static String htmlUnescape(String text) {
        Matcher m = ENTITY.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String replacement;
            if (name.startsWith("#x") || name.startsWith("#X")) {
                replacement = new String(Character.toChars(Integer.parseInt(name.substring(2), 16)));
            } else if (name.startsWith("#")) {
                replacement = new String(Character.toChars(Integer.parseInt(name.substring(1))));
            } else {
                replacement = NAMED_ENTITIES.getOrDefault(name, m.group());
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    String bpe(String token) {
        String cached = cache.get(token);
        if (cached != null) {
            return cached;
        }
        // the byte-level alphabet is all in the BMP, so chars are symbols
        List<String> word = new ArrayList<>();
        for (int i = 0; i < token.length() - 1; i++) {
            word.add(String.valueOf(token.charAt(i)));
        }
        word.add(token.charAt(token.length() - 1) + "</w>");
        Set<String> pairs = getPairs(word);
        if (pairs.isEmpty()) {
            return token + "</w>";
        }
        while (true) {
            String bigram = null;
            int best = Integer.MAX_VALUE;
            for (String pair : pairs) {
                Integer rank = bpeRanks.get(pair);
                if (rank != null && rank < best) {
                    best = rank;
                    bigram = pair;
                }
            }
            if (bigram == null) {
                break;
            }
            String first = bigram.substring(0, bigram.indexOf(' '));
            String second = bigram.substring(bigram.indexOf(' ') + 1);
            List<String> newWord = new ArrayList<>();
            int i = 0;
            while (i < word.size()) {
                int j = indexOf(word, first, i);
                if (j < 0) {
                    newWord.addAll(word.subList(i, word.size()));
                    break;
                }
                newWord.addAll(word.subList(i, j));
                i = j;
                if (word.get(i).equals(first) && i < word.size() - 1 && word.get(i + 1).equals(second)) {
                    newWord.add(first + second);
                    i += 2;
                } else {
                    newWord.add(word.get(i));
                    i += 1;
                }
            }
            word = newWord;
            if (word.size() == 1) {
                break;
            }
            pairs = getPairs(word);
        }
        String result = String.join(" ", word);
        cache.put(token, result);
        return result;
    }

    private static int indexOf(List<String> word, String symbol, int from) {
        for (int k = from; k < word.size(); k++) {
            if (word.get(k).equals(symbol)) {
                return k;
            }
        }
        return -1;
    }

    /** SimpleTokenizer.encode: the prompt's own token ids, no BOS/EOS. */
    List<Integer> encode(String text) {
        List<Integer> bpeTokens = new ArrayList<>();
        text = whitespaceClean(basicClean(text, unescapeHtml)).toLowerCase(Locale.ROOT);
        Matcher m = PAT.matcher(text);
        while (m.find()) {
            StringBuilder token = new StringBuilder();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                token.append(byteEncoder.get(b & 0xFF));
            }
            for (String bpeToken : bpe(token.toString()).split(" ")) {
                Integer id = encoder.get(bpeToken);
                if (id == null) {
                    throw new IllegalStateException("no id for " + bpeToken);
                }
                bpeTokens.add(id);
            }
        }
        return bpeTokens;
    }

    /** What CLIP's {@code tokenize()} puts in a row before padding: BOS, the tokens, EOS. */
    List<Integer> encodeWithSpecials(String text) {
        List<Integer> ids = new ArrayList<>();
        ids.add(encoder.get("<|startoftext|>"));
        ids.addAll(encode(text));
        ids.add(encoder.get("<|endoftext|>"));
        return ids;
    }
}
