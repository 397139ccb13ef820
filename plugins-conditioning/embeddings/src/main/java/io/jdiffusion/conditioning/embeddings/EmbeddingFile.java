package io.jdiffusion.conditioning.embeddings;

import io.jdiffusion.api.EmbeddingSource.Embedding;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One embedding file read the way A1111's {@code create_embedding_from_data} reads it:
 * {@code string_to_param} (A1111 / original textual inversion: one tensor, or a ParameterDict of one);
 * {@code clip_l} + {@code clip_g} (SDXL: both kept, chosen by the text encoder's width);
 * {@code emb_params} (A1111 safetensors); else a dictionary of exactly one tensor (diffusers'
 * {@code {token: vector}}). A 1-d tensor is one vector.
 */
final class EmbeddingFile {
    static final List<String> EXTENSIONS = List.of(".safetensors", ".pt", ".bin");

    private EmbeddingFile() {
    }

    /** The trigger word of a file: its name without the extension. */
    static String word(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static boolean isEmbeddingFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** Embeddings are kilobytes to a few megabytes; a bigger file is a model or a LoRA put in the wrong folder. */
    static final long MAX_BYTES = 64L * 1024 * 1024;

    static Embedding read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new EmbeddingFormatException("too large for an embedding (" + size / (1024 * 1024)
                    + " MB, at most " + MAX_BYTES / (1024 * 1024) + " MB): a model checkpoint or LoRA?");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Map<?, ?> data;
        if (name.endsWith(".safetensors")) {
            data = Safetensors.read(Files.readAllBytes(file));
        } else {
            Object root = TorchFile.read(file);
            if (!(root instanceof Map<?, ?> m)) {
                throw new EmbeddingFormatException("the pickle holds " + SafeUnpickler.describe(root)
                        + ", not a dictionary of tensors");
            }
            data = m;
        }
        return new Embedding(word(file), variants(data), file.getFileName().toString());
    }

    static List<float[][]> variants(Map<?, ?> data) {
        List<float[][]> out = new ArrayList<>();
        if (data.containsKey("string_to_param")) {
            Object p = data.get("string_to_param");
            if (!(p instanceof Map<?, ?> params) || params.size() != 1) {
                throw new EmbeddingFormatException("string_to_param must hold exactly one tensor, it holds "
                        + (p instanceof Map<?, ?> m ? m.size() + " entries" : SafeUnpickler.describe(p)));
            }
            out.add(vectors(params.values().iterator().next(), "string_to_param"));
        } else if (data.containsKey("clip_l") && data.containsKey("clip_g")) {
            out.add(vectors(data.get("clip_l"), "clip_l"));
            out.add(vectors(data.get("clip_g"), "clip_g"));
        } else if (data.containsKey("emb_params")) {
            out.add(vectors(data.get("emb_params"), "emb_params"));
        } else if (data.size() == 1 && data.values().iterator().next() instanceof Tensor) {
            Map.Entry<?, ?> e = data.entrySet().iterator().next();
            out.add(vectors(e.getValue(), String.valueOf(e.getKey())));
        } else {
            throw new EmbeddingFormatException("no embedding found: expected string_to_param, clip_l + clip_g, emb_params"
                    + " or a single {token: tensor}; keys are " + data.keySet());
        }
        for (float[][] v : out) {
            if (v.length == 0 || v[0].length == 0) {
                throw new EmbeddingFormatException("the embedding has no vectors");
            }
        }
        return out;
    }

    private static float[][] vectors(Object o, String what) {
        if (!(o instanceof Tensor t)) {
            throw new EmbeddingFormatException(what + " is " + SafeUnpickler.describe(o) + ", not a tensor");
        }
        return t.vectors(what);
    }
}
