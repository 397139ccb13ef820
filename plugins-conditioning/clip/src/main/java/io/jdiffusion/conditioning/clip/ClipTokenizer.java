package io.jdiffusion.conditioning.clip;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * CLIP's byte-level BPE tokenizer, run by the HuggingFace {@code tokenizers} library through DJL.
 *
 * <p>Model folders ({@code tokenizer/}, {@code tokenizer_2/}) carry only the "slow" files:
 * {@code vocab.json}, {@code merges.txt} and optionally {@code special_tokens_map.json},
 * {@code tokenizer_config.json}, {@code added_tokens.json}. {@link #load(Path)} builds, in memory,
 * the {@code tokenizer.json} that transformers' {@code CLIPConverter} (convert_slow_tokenizer.py)
 * would write for them and hands it to DJL: NFC + whitespace collapse + lowercase, CLIP's split
 * regex, byte-level BPE with the {@code </w>} end-of-word suffix, BOS/EOS around every sequence.
 * Text is lowercased in Java before it goes in, as CLIP's Python {@code str.lower()} does it (the
 * only difference to HF's own lowercasing: a word-final {@code Σ} becomes {@code ς}, not {@code σ}).
 *
 * <p>Special tokens are read from the folder's files the way {@code CLIPTokenizer} reads them:
 * its defaults, overridden by {@code tokenizer_config.json}, overridden by
 * {@code special_tokens_map.json}; the pad token defaults to the EOS token (SD 1.x pads with
 * {@code <|endoftext|>}, SD 2.x and SDXL's {@code tokenizer_2} with {@code !} = id 0). Ids are
 * looked up in {@code vocab.json} (then the added tokens), never assumed.
 *
 * <p>Thread-safe. Holds a native tokenizer: {@link #close()} it when done.
 */
public final class ClipTokenizer implements AutoCloseable {

    /** CLIP's pre-tokenizer regex, as in {@code CLIPConverter} and OpenAI's simple_tokenizer.py. */
    static final String SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

    /** {@code CLIPTokenizer} reads at most this many merges (49152 - 256 bytes - 2 specials). */
    static final int MAX_MERGES = 49152 - 256 - 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final HuggingFaceTokenizer tokenizer;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private ClipTokenizer(Path directory, HuggingFaceTokenizer tokenizer, Definition def) {
        this.directory = directory;
        this.tokenizer = tokenizer;
        this.bosId = def.bosId;
        this.eosId = def.eosId;
        this.padId = def.padId;
        this.unkId = def.unkId;
    }

    /**
     * Loads the tokenizer in {@code tokenizerDir} ({@code vocab.json} + {@code merges.txt} and the
     * optional config files). The caller owns the result and must close it.
     */
    public static ClipTokenizer load(Path tokenizerDir) throws IOException {
        Definition def = Definition.read(tokenizerDir);
        byte[] json = JSON.writeValueAsBytes(def.toTokenizerJson());
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                // DJL truncates to 512 and pads by default: switch both off, we do them ourselves
                "truncation", "false",
                "padding", "false");
        return new ClipTokenizer(tokenizerDir, newDjlTokenizer(json, options), def);
    }

    /**
     * DJL extracts its native library from its own jar through the thread context class loader
     * on first use (and remembers a failure for good). Under OSGi that loader may be a bundle's
     * that cannot see the host's jar, so point it at DJL's own loader for the call.
     */
    private static HuggingFaceTokenizer newDjlTokenizer(byte[] json, Map<String, String> options)
            throws IOException {
        // DJL "calls home" (EC2 metadata look-up) on every new tokenizer unless told not to.
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        ClassLoader djl = HuggingFaceTokenizer.class.getClassLoader();
        if (djl != null) {
            thread.setContextClassLoader(djl);
        }
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** All token ids of {@code text}, BOS first and EOS last; no truncation, no padding. */
    public List<Integer> ids(String text) {
        return toList(encode(text, true));
    }

    /** Token ids of {@code text} without BOS/EOS (the prompt's own tokens). */
    public List<Integer> contentIds(String text) {
        return toList(encode(text, false));
    }

    /** How many tokens {@code text} uses, without BOS/EOS. */
    public int countTokens(String text) {
        return encode(text, false).length;
    }

    /**
     * Ids of {@code text} exactly {@code maxLength} long, as
     * {@code CLIPTokenizer(padding="max_length", truncation=True, max_length=maxLength)} gives
     * them: cut to {@code maxLength} keeping EOS as the last token, then filled with the pad id.
     */
    public long[] encodePadded(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must leave room for BOS and EOS: " + maxLength);
        }
        long[] ids = encode(text, true);
        long[] out = new long[maxLength];
        if (ids.length > maxLength) {
            System.arraycopy(ids, 0, out, 0, maxLength - 1);
            out[maxLength - 1] = eosId;
        } else {
            System.arraycopy(ids, 0, out, 0, ids.length);
            Arrays.fill(out, ids.length, maxLength, padId);
        }
        return out;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int unkId() {
        return unkId;
    }

    /** The folder this tokenizer was read from. */
    public Path directory() {
        return directory;
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                tokenizer.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private long[] encode(String text, boolean specialTokens) {
        // CLIP lowercases with Python's str.lower(), which (like Java's, unlike the char-by-char
        // Lowercase normalizer of HF tokenizers) turns a word-final capital sigma into 'ς'.
        // Lowercasing here first makes HF's normalizer a no-op on case and matches CLIP.
        String input = text == null ? "" : text.toLowerCase(Locale.ROOT);
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("tokenizer for " + directory + " is closed");
            }
            Encoding encoding = tokenizer.encode(input, specialTokens, false);
            return encoding.getIds();
        } finally {
            lock.readLock().unlock();
        }
    }

    private static List<Integer> toList(long[] ids) {
        List<Integer> list = new ArrayList<>(ids.length);
        for (long id : ids) {
            list.add((int) id);
        }
        return Collections.unmodifiableList(list);
    }

    /** What the tokenizer folder says, and the HF {@code tokenizer.json} built from it. */
    static final class Definition {
        final Map<String, Integer> vocab;
        final List<String> merges;
        final String bos;
        final String eos;
        final String pad;
        final String unk;
        final int bosId;
        final int eosId;
        final int padId;
        final int unkId;
        /** Added tokens (id, content, special, normalized), by id. */
        final Map<Integer, AddedToken> addedTokens;

        private Definition(Map<String, Integer> vocab, List<String> merges, Map<String, String> specials,
                Map<Integer, AddedToken> added) throws IOException {
            this.vocab = vocab;
            this.merges = merges;
            this.bos = specials.get("bos_token");
            this.eos = specials.get("eos_token");
            this.unk = specials.get("unk_token");
            this.pad = specials.getOrDefault("pad_token", eos);
            Map<String, Integer> addedByContent = new LinkedHashMap<>();
            added.values().forEach(t -> addedByContent.putIfAbsent(t.content(), t.id()));
            this.bosId = idOf(bos, "bos_token", addedByContent);
            this.eosId = idOf(eos, "eos_token", addedByContent);
            this.unkId = idOf(unk, "unk_token", addedByContent);
            this.padId = idOf(pad, "pad_token", addedByContent);

            // Only BOS/EOS/UNK and tokens outside vocab.json are matched as whole "added" tokens
            // (as CLIP's own regex does for <|startoftext|>/<|endoftext|>). A pad token that is an
            // ordinary vocabulary entry (SDXL's "!") must stay ordinary text, or every "!" in a
            // prompt would become id 0 instead of CLIP's "!</w>".
            Map<Integer, AddedToken> kept = new TreeMap<>();
            for (AddedToken t : added.values()) {
                if (!vocab.containsKey(t.content())) {
                    kept.put(t.id(), t);
                }
            }
            for (String special : List.of(bos, eos, unk)) {
                int id = idOf(special, "special token", addedByContent);
                kept.put(id, new AddedToken(id, special, true, true));
            }
            this.addedTokens = Collections.unmodifiableMap(kept);
        }

        private int idOf(String token, String what, Map<String, Integer> added) throws IOException {
            Integer id = vocab.get(token);
            if (id == null) {
                id = added.get(token);
            }
            if (id == null) {
                throw new IOException(what + " '" + token + "' is neither in vocab.json nor an added token");
            }
            return id;
        }

        static Definition read(Path dir) throws IOException {
            Path vocabFile = dir.resolve("vocab.json");
            Path mergesFile = dir.resolve("merges.txt");
            if (!Files.isRegularFile(vocabFile) || !Files.isRegularFile(mergesFile)) {
                throw new IOException("not a CLIP tokenizer folder (vocab.json + merges.txt): " + dir);
            }
            Map<String, Integer> vocab = JSON.readValue(vocabFile.toFile(), new TypeReference<LinkedHashMap<String, Integer>>() {
            });
            List<String> merges = readMerges(mergesFile, vocab);

            // CLIPTokenizer's own defaults, then tokenizer_config.json, then special_tokens_map.json
            Map<String, String> specials = new LinkedHashMap<>();
            specials.put("bos_token", "<|startoftext|>");
            specials.put("eos_token", "<|endoftext|>");
            specials.put("unk_token", "<|endoftext|>");
            JsonNode config = readOptional(dir.resolve("tokenizer_config.json"));
            JsonNode map = readOptional(dir.resolve("special_tokens_map.json"));
            for (JsonNode source : new JsonNode[] {config, map}) {
                for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                    String value = tokenContent(source == null ? null : source.get(key));
                    if (value != null) {
                        specials.put(key, value);
                    }
                }
            }

            Map<Integer, AddedToken> added = new LinkedHashMap<>();
            if (config != null && config.get("added_tokens_decoder") instanceof ObjectNode decoder) {
                Iterator<Map.Entry<String, JsonNode>> it = decoder.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String content = tokenContent(e.getValue());
                    if (content == null) {
                        continue;
                    }
                    int id = Integer.parseInt(e.getKey());
                    boolean special = e.getValue().path("special").asBoolean(false);
                    boolean normalized = e.getValue().path("normalized").asBoolean(!special);
                    added.put(id, new AddedToken(id, content, special, normalized));
                }
            }
            JsonNode addedFile = readOptional(dir.resolve("added_tokens.json"));
            if (addedFile instanceof ObjectNode obj) {
                Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    int id = e.getValue().asInt();
                    boolean special = specials.containsValue(e.getKey());
                    added.putIfAbsent(id, new AddedToken(id, e.getKey(), special, !special));
                }
            }
            return new Definition(vocab, merges, specials, added);
        }

        /**
         * merges.txt as {@code CLIPTokenizer} reads it: an optional {@code #version} header, then
         * at most {@link #MAX_MERGES} pairs. Pairs that do not form tokens of vocab.json are left
         * out (the Rust BPE model refuses them and the slow tokenizer could never emit them).
         */
        private static List<String> readMerges(Path file, Map<String, Integer> vocab) throws IOException {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String> merges = new ArrayList<>(Math.min(lines.size(), MAX_MERGES));
            int start = !lines.isEmpty() && lines.get(0).startsWith("#version") ? 1 : 0;
            for (int i = start; i < lines.size() && merges.size() < MAX_MERGES; i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) {
                    continue;
                }
                String[] pair = line.split("\\s+");
                if (pair.length != 2) {
                    throw new IOException("bad merge on line " + (i + 1) + " of " + file + ": " + line);
                }
                if (vocab.containsKey(pair[0]) && vocab.containsKey(pair[1]) && vocab.containsKey(pair[0] + pair[1])) {
                    merges.add(pair[0] + ' ' + pair[1]);
                }
            }
            return merges;
        }

        private static JsonNode readOptional(Path file) throws IOException {
            return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : null;
        }

        /** A special-token entry: a plain string or an AddedToken object with {@code content}. */
        private static String tokenContent(JsonNode node) {
            if (node == null || node.isNull()) {
                return null;
            }
            if (node.isTextual()) {
                return node.asText();
            }
            JsonNode content = node.get("content");
            return content != null && content.isTextual() ? content.asText() : null;
        }

        /** The {@code tokenizer.json} {@code CLIPConverter} writes for these files. */
        ObjectNode toTokenizerJson() {
            ObjectNode root = JSON.createObjectNode();
            root.put("version", "1.0");
            root.putNull("truncation");
            root.putNull("padding");

            ArrayNode addedArray = root.putArray("added_tokens");
            for (AddedToken t : addedTokens.values()) {
                ObjectNode o = addedArray.addObject();
                o.put("id", t.id());
                o.put("content", t.content());
                o.put("single_word", false);
                o.put("lstrip", false);
                o.put("rstrip", false);
                o.put("normalized", t.normalized());
                o.put("special", t.special());
            }

            ObjectNode normalizer = root.putObject("normalizer");
            normalizer.put("type", "Sequence");
            ArrayNode normalizers = normalizer.putArray("normalizers");
            normalizers.addObject().put("type", "NFC");
            ObjectNode replace = normalizers.addObject();
            replace.put("type", "Replace");
            replace.putObject("pattern").put("Regex", "\\s+");
            replace.put("content", " ");
            normalizers.addObject().put("type", "Lowercase");

            ObjectNode preTokenizer = root.putObject("pre_tokenizer");
            preTokenizer.put("type", "Sequence");
            ArrayNode preTokenizers = preTokenizer.putArray("pretokenizers");
            ObjectNode split = preTokenizers.addObject();
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", SPLIT_REGEX);
            split.put("behavior", "Removed");
            split.put("invert", true);
            ObjectNode byteLevel = preTokenizers.addObject();
            byteLevel.put("type", "ByteLevel");
            byteLevel.put("add_prefix_space", false);
            byteLevel.put("trim_offsets", true);
            byteLevel.put("use_regex", true);

            ObjectNode post = root.putObject("post_processor");
            post.put("type", "RobertaProcessing");
            post.putArray("sep").add(eos).add(eosId);
            post.putArray("cls").add(bos).add(bosId);
            post.put("trim_offsets", false);
            post.put("add_prefix_space", false);

            ObjectNode decoder = root.putObject("decoder");
            decoder.put("type", "ByteLevel");
            decoder.put("add_prefix_space", true);
            decoder.put("trim_offsets", true);
            decoder.put("use_regex", true);

            ObjectNode model = root.putObject("model");
            model.put("type", "BPE");
            model.putNull("dropout");
            model.put("unk_token", unk);
            model.put("continuing_subword_prefix", "");
            model.put("end_of_word_suffix", "</w>");
            model.put("fuse_unk", false);
            model.put("byte_fallback", false);
            ObjectNode vocabNode = model.putObject("vocab");
            vocab.forEach(vocabNode::put);
            ArrayNode mergesNode = model.putArray("merges");
            merges.forEach(mergesNode::add);
            return root;
        }
    }

    /** One entry of tokenizer.json's {@code added_tokens}. */
    record AddedToken(int id, String content, boolean special, boolean normalized) {
        AddedToken {
            Objects.requireNonNull(content);
        }
    }
}
