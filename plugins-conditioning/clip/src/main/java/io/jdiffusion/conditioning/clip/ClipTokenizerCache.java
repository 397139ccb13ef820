package io.jdiffusion.conditioning.clip;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One {@link ClipTokenizer} per tokenizer folder, loaded on first use and kept until
 * {@link #evict(Path)} or {@link #close()} (which frees the native tokenizers).
 */
public final class ClipTokenizerCache implements AutoCloseable {

    private final ConcurrentMap<Path, ClipTokenizer> tokenizers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * The tokenizer for {@code tokenizerDir}, loading it the first time.
     *
     * @throws UncheckedIOException when the folder holds no readable CLIP tokenizer
     */
    public ClipTokenizer get(Path tokenizerDir) {
        if (closed) {
            throw new IllegalStateException("tokenizer cache is closed");
        }
        Path key = tokenizerDir.toAbsolutePath().normalize();
        ClipTokenizer tokenizer = tokenizers.computeIfAbsent(key, dir -> {
            try {
                return ClipTokenizer.load(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the CLIP tokenizer in " + dir + ": " + e.getMessage(), e);
            }
        });
        if (closed) { // closed while we were loading: do not leak the native tokenizer
            close();
            throw new IllegalStateException("tokenizer cache is closed");
        }
        return tokenizer;
    }

    /** Drops (and closes) the tokenizer of {@code tokenizerDir}, e.g. when its model is unloaded. */
    public void evict(Path tokenizerDir) {
        ClipTokenizer removed = tokenizers.remove(tokenizerDir.toAbsolutePath().normalize());
        if (removed != null) {
            removed.close();
        }
    }

    /** How many tokenizers are loaded. */
    public int size() {
        return tokenizers.size();
    }

    @Override
    public void close() {
        closed = true;
        List<Path> keys = new ArrayList<>(tokenizers.keySet());
        for (Path key : keys) {
            ClipTokenizer removed = tokenizers.remove(key);
            if (removed != null) {
                removed.close();
            }
        }
    }
}
