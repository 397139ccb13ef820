package io.jdiffusion.toyworld;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The toy world's CLIP-format vocabulary: a small byte-level BPE trained here. Ids 0..255 are the byte symbols in
 * {@code bytes_to_unicode()} order, 256..511 the same with {@code </w>}, then one id per merge result in merge order,
 * then {@code <|startoftext|>} (V-2) and {@code <|endoftext|>} (V-1).
 */
public final class BpeVocabulary {
    /** Weight of each world word in the training corpus: high, so each becomes one token early. */
    static final long WORLD_WEIGHT = 1_000_000L;

    /** A few hundred common English words (most common first) that prompts are made of. */
    static final String COMMON_WORDS = String.join(" ",
            "a an the on of in with and or at to for from by is are was this that it its as be",
            "picture photo photograph image drawing painting illustration render art artwork style shape",
            "simple flat plain solid centered center centre middle big small large tiny huge little",
            "bright dark light pale deep vivid colour color colored coloured single one two three",
            "high quality detailed beautiful best good nice clean sharp smooth soft hard round",
            "top bottom left right side edge corner front back inside outside over under above below",
            "near far behind between around into onto across through up down out off no not very",
            "logo icon symbol sign pattern texture design graphic vector digital minimal minimalist",
            "scene view close wide shot portrait landscape sky sun moon water sea fire tree flower",
            "house car dog cat man woman person people face eye hand head hair city street road",
            "night day morning evening light shadow glow neon gold silver pink brown grey gray",
            "cyan magenta teal navy lime dark pastel golden wooden metal glass paper stone",
            "have has had do does did will would can could should may might must shall",
            "make made get got go goes went see saw look looks looking show shows shown draw drawn",
            "what which who when where why how all each every some any many much more most other",
            "new old first last next same different own such only also just than then there here",
            "i you he she we they me him her us them my your his our their",
            "time year way thing world life part place case point group number fact work",
            "very really quite rather almost nearly about like unlike well even still yet",
            "photorealistic realistic cartoon anime sketch oil watercolor studio lighting",
            "trending artstation masterpiece highly resolution render octane unreal engine",
            "blurry ugly bad worst low lowres jpeg artifacts noise noisy text watermark",
            "empty blank nothing something everything object objects shapes colours colors",
            "circles squares triangles stars diamonds crosses hexagons backgrounds");

    private final Map<String, Integer> vocab;
    private final List<String[]> merges;

    private BpeVocabulary(Map<String, Integer> vocab, List<String[]> merges) {
        this.vocab = vocab;
        this.merges = merges;
    }

    /** Trains the vocabulary (deterministic). */
    public static BpeVocabulary build() {
        Map<String, Long> corpus = new LinkedHashMap<>();
        for (String w : World.words()) corpus.merge(w, WORLD_WEIGHT, Long::sum);
        String[] common = COMMON_WORDS.split(" ");
        for (int i = 0; i < common.length; i++) {
            long weight = Math.max(1, 1000 - 3L * i);
            corpus.merge(common[i], weight, Long::sum);
        }
        return train(corpus);
    }

    /** BPE training: pairs counted with {@code </w>} word ends, most frequent merged first (ties: smallest pair). */
    static BpeVocabulary train(Map<String, Long> corpus) {
        List<String> base = ClipBpe.byteSymbols();
        Set<String> symbols = new HashSet<>(base);
        for (String b : base) symbols.add(b + ClipBpe.END_OF_WORD);

        List<List<String>> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        corpus.forEach((w, c) -> {
            words.add(new ArrayList<>(ClipBpe.initialSymbols(ClipBpe.byteEncode(w))));
            counts.add(c);
        });

        List<String[]> merges = new ArrayList<>();
        Set<String> banned = new HashSet<>();
        while (true) {
            Map<String, Long> pairCounts = new LinkedHashMap<>();
            for (int wi = 0; wi < words.size(); wi++) {
                List<String> w = words.get(wi);
                for (int i = 0; i + 1 < w.size(); i++) pairCounts.merge(w.get(i) + " " + w.get(i + 1), counts.get(wi), Long::sum);
            }
            String best = null;
            long bestCount = 0;
            for (Map.Entry<String, Long> e : pairCounts.entrySet()) {
                if (banned.contains(e.getKey())) continue;
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) break;
            String[] pair = best.split(" ");
            String merged = pair[0] + pair[1];
            if (symbols.contains(merged)) { // a second way to the same string: a vocab entry must stay unique
                banned.add(best);
                continue;
            }
            symbols.add(merged);
            merges.add(pair);
            for (List<String> w : words) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    if (w.get(i).equals(pair[0]) && w.get(i + 1).equals(pair[1])) {
                        w.set(i, merged);
                        w.remove(i + 1);
                    }
                }
            }
        }

        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String b : base) vocab.put(b, vocab.size());
        for (String b : base) vocab.put(b + ClipBpe.END_OF_WORD, vocab.size());
        for (String[] m : merges) vocab.put(m[0] + m[1], vocab.size());
        vocab.put(ClipBpe.BOS, vocab.size());
        vocab.put(ClipBpe.EOS, vocab.size());
        return new BpeVocabulary(Collections.unmodifiableMap(vocab), Collections.unmodifiableList(merges));
    }

    /** Token string to id, in id order. */
    public Map<String, Integer> vocab() { return vocab; }

    public List<String[]> merges() { return merges; }

    public int size() { return vocab.size(); }

    public int bosId() { return size() - 2; }

    public int eosId() { return size() - 1; }

    /** merges.txt as HF writes it: the {@code #version: 0.2} header, then one "a b" line per merge. */
    public String mergesText() {
        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String[] m : merges) sb.append(m[0]).append(' ').append(m[1]).append('\n');
        return sb.toString();
    }

    private ToyTokenizer tokenizer;

    /** A tokenizer over this vocabulary. */
    public synchronized ToyTokenizer tokenizer() {
        if (tokenizer == null) tokenizer = new ToyTokenizer(vocab, merges);
        return tokenizer;
    }
}
