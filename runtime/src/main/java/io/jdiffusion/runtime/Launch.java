package io.jdiffusion.runtime;

import io.jdiffusion.api.cuda.CudaOptions;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What {@code serve} and {@code generate} share: the options that say where things are, and the boot. */
final class Launch {
    static final Set<String> VALUED = Set.of("model", "models-dir", "plugins", "bundles", "device", "cuda-option",
            "resident", "embeddings");
    static final Set<String> FLAGS = Set.of("debug");
    static final List<String> DEVICES = List.of("auto", "cpu", "cuda");

    private Launch() {
    }

    /** The framework properties of docs/contracts.md that both commands set. */
    static Map<String, String> properties(Args a, boolean http) throws UsageException, IOException {
        Map<String, String> p = new HashMap<>();
        p.put("sd.device", a.choice("device", System.getProperty("sd.device", "auto"), DEVICES));
        p.putAll(cudaOptions(a).toProperties());
        Integer resident = a.integer("resident");
        if (resident != null) {
            if (resident < 1) throw new UsageException("--resident must be 1 or more (models kept loaded), got " + resident);
            p.put("sd.models.resident", resident.toString());
        }
        p.put("sd.http.enabled", Boolean.toString(http));
        Path modelsDir = a.path("models-dir");
        if (modelsDir != null) {
            if (!Files.isDirectory(modelsDir)) throw new UsageException("--models-dir: not a folder: " + modelsDir);
            p.put("sd.models.dir", modelsDir.toString());
        }
        p.put("sd.model", model(a).toString());
        // textual-inversion files: watched by the embeddings plugin, which reads the folder as it is on each use
        Path embeddings = a.path("embeddings");
        if (embeddings != null && Files.exists(embeddings) && !Files.isDirectory(embeddings)) {
            throw new UsageException("--embeddings: not a folder: " + embeddings);
        }
        p.put("sd.embeddings", (embeddings != null ? embeddings : Path.of("embeddings")).toAbsolutePath().toString());
        return p;
    }

    /** {@code --cuda-option KEY=VALUE} (repeatable), checked here so that a typo is a usage error, not a dead engine. */
    static CudaOptions cudaOptions(Args a) throws UsageException {
        try {
            return CudaOptions.parse(a.all("cuda-option"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--cuda-option: " + e.getMessage());
        }
    }

    /** {@code --model DIR}, or the toy world from the cache (generated there on first use). */
    static Path model(Args a) throws UsageException, IOException {
        Path model = a.path("model");
        if (model != null) {
            if (!Files.isDirectory(model)) throw new UsageException("--model: not a folder: " + model);
            return model;
        }
        return toyWorld();
    }

    /** {@code $XDG_CACHE_HOME} (or {@code ~/.cache}) {@code /jdiffusion/toy-world-VERSION}, written once. */
    static Path toyWorld() throws IOException {
        String version = String.valueOf(ToyWorld.VERSION);
        String name = version.startsWith("toy-world") ? version : "toy-world-" + version;
        Path dir = cacheDir().resolve("jdiffusion").resolve(name);
        // ToyWorld.write fills a temporary sibling and moves it into place: a folder that is there is whole
        if (!Files.isRegularFile(dir.resolve("model_index.json"))) {
            System.err.println("jdiffusion: writing the toy-world model to " + dir + " (first run only)");
            ToyWorld.write(dir, ToyWorldOptions.defaults());
        }
        return dir;
    }

    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) return Path.of(xdg);
        return Path.of(System.getProperty("user.home"), ".cache");
    }

    static Path pluginsDir(Args a) {
        Path p = a.path("plugins");
        return p != null ? p : Path.of(System.getProperty("sd.plugins", "plugins")).toAbsolutePath().normalize();
    }

    /** {@code --bundles DIR}, system property {@code sd.bundles}, else {@code <lib>/../bundles} beside the runtime jar. */
    static Path bundlesDir(Args a) {
        Path p = a.path("bundles");
        if (p != null) return p;
        String prop = System.getProperty("sd.bundles");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        try {
            Path self = Path.of(Launch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return self.getParent().resolve("../bundles").normalize();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("bundles").toAbsolutePath();
        }
    }

    static SdRuntime boot(Args a, Map<String, String> properties) throws Exception {
        return SdRuntime.boot(new SdRuntime.Options(bundlesDir(a), pluginsDir(a), properties));
    }
}
