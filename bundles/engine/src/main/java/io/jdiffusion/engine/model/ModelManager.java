package io.jdiffusion.engine.model;

import ai.onnxruntime.OrtException;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Knows the models (the default one and the folders of a models directory), loads each on
 * first use and keeps at most {@code resident} loaded, closing the least recently used.
 */
public final class ModelManager implements AutoCloseable {
    private final OnnxRuntime runtime;
    private final Path defaultModel;
    private final Path modelsDir;
    private final int resident;
    private final LinkedHashMap<String, OnnxModel> loaded = new LinkedHashMap<>(4, 0.75f, true);

    public ModelManager(OnnxRuntime runtime, Path defaultModel, Path modelsDir, int resident) {
        this.runtime = runtime;
        this.defaultModel = defaultModel;
        this.modelsDir = modelsDir;
        this.resident = Math.max(1, resident);
    }

    /** Every known model folder by id, the default first. */
    public synchronized Map<String, Path> known() {
        Map<String, Path> m = new LinkedHashMap<>();
        if (defaultModel != null) {
            m.put(defaultModel.getFileName().toString(), defaultModel);
        }
        if (modelsDir != null && Files.isDirectory(modelsDir)) {
            try (Stream<Path> s = Files.list(modelsDir)) {
                s.filter(ModelFolder::looksLikeModel).sorted()
                        .forEach(p -> m.putIfAbsent(p.getFileName().toString(), p));
            } catch (IOException e) {
                // an unreadable models folder lists nothing; the default model still serves
            }
        }
        return m;
    }

    public String defaultId() {
        return defaultModel == null ? null : defaultModel.getFileName().toString();
    }

    public synchronized boolean isLoaded(String id) {
        return loaded.containsKey(id);
    }

    /** The model with this id, loading it (and evicting the least recently used) when needed. */
    public synchronized OnnxModel get(String id) {
        OnnxModel m = loaded.get(id);
        if (m != null) {
            return m;
        }
        Path dir = known().get(id);
        if (dir == null) {
            throw new IllegalArgumentException("unknown model " + id);
        }
        while (loaded.size() >= resident) {
            Iterator<Map.Entry<String, OnnxModel>> it = loaded.entrySet().iterator();
            OnnxModel old = it.next().getValue();
            it.remove();
            old.close();
        }
        try {
            m = new OnnxModel(ModelFolder.open(dir), runtime);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load model " + id + ": " + e.getMessage(), e);
        }
        loaded.put(id, m);
        return m;
    }

    public synchronized List<String> loadedIds() {
        return new ArrayList<>(loaded.keySet());
    }

    /** The model if it is loaded now, else null; never loads (listing must not pull a UNet into memory). */
    public synchronized OnnxModel loadedOrNull(String id) {
        return loaded.get(id);
    }

    /** Closes the model's sessions; true when it was loaded. */
    public synchronized boolean unload(String id) {
        OnnxModel m = loaded.remove(id);
        if (m != null) {
            m.close();
        }
        return m != null;
    }

    @Override
    public synchronized void close() {
        loaded.values().forEach(OnnxModel::close);
        loaded.clear();
    }
}
