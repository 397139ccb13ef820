package io.jdiffusion.conditioning.clip;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The real CLIP vocabulary, derived from OpenAI's {@code bpe_simple_vocab_16e6.txt.gz} (see
 * {@code shared/reference/clip/README.md}) and written out as the {@code tokenizer/} folders real
 * Stable Diffusion checkpoints carry.
 */
final class ClipFixtures {

    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";

    private static List<String> merges;
    private static Map<String, Integer> vocab;

    private ClipFixtures() {
    }

    /** Something that can fail. */
    interface IoAction<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code action} with a thread context class loader that sees nothing, as an OSGi bundle's
     * thread may have: DJL finds its native library through that loader on first use, so the
     * first tokenizer of the test JVM is always made this way.
     */
    static <T> T withForeignContextClassLoader(IoAction<T> action) throws IOException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(new URLClassLoader(new URL[0], null));
        try {
            return action.run();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    static Path sharedDir() {
        String dir = System.getProperty("sd.shared.dir");
        if (dir == null) {
            throw new IllegalStateException("system property sd.shared.dir is not set (the parent pom's surefire config sets it)");
        }
        return Paths.get(dir);
    }

    static Path referenceDir() {
        return sharedDir().resolve("reference/clip");
    }

    /** The 48,894 merges CLIP uses: the lines after the header of the gz file. */
    static synchronized List<String> merges() {
        if (merges == null) {
            List<String> lines = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(
                    new GZIPInputStream(Files.newInputStream(referenceDir().resolve("bpe_simple_vocab_16e6.txt.gz"))),
                    StandardCharsets.UTF_8))) {
                in.readLine(); // header
                String line;
                while (lines.size() < 49152 - 256 - 2 && (line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            merges = List.copyOf(lines);
        }
        return merges;
    }

    /** token -> id: 256 byte symbols, the same with {@code </w>}, one per merge, then BOS, EOS. */
    static synchronized Map<String, Integer> vocab() {
        if (vocab == null) {
            List<String> tokens = new ArrayList<>();
            List<String> bytes = new ArrayList<>(ReferenceClipTokenizer.bytesToUnicode().values());
            tokens.addAll(bytes);
            bytes.forEach(b -> tokens.add(b + "</w>"));
            for (String merge : merges()) {
                tokens.add(merge.replace(" ", ""));
            }
            tokens.add(BOS);
            tokens.add(EOS);
            Map<String, Integer> v = new LinkedHashMap<>();
            for (int i = 0; i < tokens.size(); i++) {
                v.put(tokens.get(i), i);
            }
            vocab = v;
        }
        return vocab;
    }

    /** vocab.json + merges.txt only. */
    static Path writeBare(Path dir) throws IOException {
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("vocab.json").toFile(), vocab());
        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String merge : merges()) {
            sb.append(merge).append('\n');
        }
        Files.writeString(dir.resolve("merges.txt"), sb.toString(), StandardCharsets.UTF_8);
        return dir;
    }

    /** Like runwayml/stable-diffusion-v1-5's {@code tokenizer/}: pads with {@code <|endoftext|>}. */
    static Path writeSd15(Path dir) throws IOException {
        writeBare(dir);
        Files.writeString(dir.resolve("special_tokens_map.json"), """
                {
                  "bos_token": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "eos_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "pad_token": "<|endoftext|>",
                  "unk_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}
                }
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {
                  "add_prefix_space": false,
                  "bos_token": {"__type": "AddedToken", "content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "do_lower_case": true,
                  "eos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "errors": "replace",
                  "model_max_length": 77,
                  "name_or_path": "openai/clip-vit-large-patch14",
                  "pad_token": "<|endoftext|>",
                  "special_tokens_map_file": "./special_tokens_map.json",
                  "tokenizer_class": "CLIPTokenizer",
                  "unk_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}
                }
                """);
        return dir;
    }

    /** Like stable-diffusion-xl-base-1.0's {@code tokenizer_2/} (OpenCLIP): pads with {@code !} = 0. */
    static Path writeSdxlTokenizer2(Path dir) throws IOException {
        writeBare(dir);
        Files.writeString(dir.resolve("special_tokens_map.json"), """
                {
                  "bos_token": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "eos_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
                  "pad_token": "!",
                  "unk_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}
                }
                """);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {
                  "add_prefix_space": false,
                  "added_tokens_decoder": {
                    "0": {"content": "!", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
                    "49406": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false, "special": true},
                    "49407": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false, "special": true}
                  },
                  "bos_token": "<|startoftext|>",
                  "clean_up_tokenization_spaces": true,
                  "do_lower_case": true,
                  "eos_token": "<|endoftext|>",
                  "errors": "replace",
                  "model_max_length": 77,
                  "pad_token": "!",
                  "tokenizer_class": "CLIPTokenizer",
                  "unk_token": "<|endoftext|>"
                }
                """);
        return dir;
    }
}
