package io.jdiffusion.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jdiffusion.api.SchedulerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model folder in the diffusers / Optimum ONNX layout, read without opening any session:
 * which parts exist and what their JSON configs say.
 */
public final class ModelFolder {
    /** diffusers' OnnxStableDiffusionPipeline hard-codes this when the VAE folder has no config.json. */
    static final double SD_VAE_SCALING_FACTOR = 0.18215;
    /** SDXL's VAE (sdxl-vae, also the fp16-fix one) scaling_factor. */
    static final double SDXL_VAE_SCALING_FACTOR = 0.13025;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> REQUIRED = List.of("text_encoder/model.onnx", "unet/model.onnx",
            "vae_decoder/model.onnx", "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt");

    private static final List<String> XL_REQUIRED = List.of("text_encoder_2/model.onnx", "tokenizer_2/vocab.json",
            "tokenizer_2/merges.txt");

    private final Path dir;
    private final String id;

    private ModelFolder(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
        this.id = this.dir.getFileName().toString();
    }

    /** Checks the folder holds a usable model; the message names every missing file. */
    public static ModelFolder open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model folder " + dir + " does not exist");
        }
        StringBuilder missing = new StringBuilder();
        for (String f : REQUIRED) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                missing.append(missing.length() == 0 ? "" : ", ").append(f);
            }
        }
        ModelFolder folder = new ModelFolder(dir);
        OnnxGraphInputs unet = missing.length() > 0 ? null : folder.unetGraph();
        if (unet != null && unet.inputs().containsKey("text_embeds") && unet.inputs().containsKey("time_ids")) {
            for (String f : XL_REQUIRED) { // an SDXL UNet needs the second text encoder and its tokenizer
                if (!Files.isRegularFile(dir.resolve(f))) {
                    missing.append(missing.length() == 0 ? "" : ", ").append(f);
                }
            }
        }
        if (missing.length() > 0) {
            throw new IllegalArgumentException("model folder " + dir + " is not a diffusers ONNX export: missing "
                    + missing);
        }
        return folder;
    }

    /**
     * The folder without checking its parts: for reading configs (listing, family detection), where a
     * folder missing a file should still be described rather than fail the whole list.
     */
    public static ModelFolder read(Path dir) {
        return new ModelFolder(dir);
    }

    /** True when {@code dir} looks like a model folder (used to list a models directory). */
    public static boolean looksLikeModel(Path dir) {
        return Files.isRegularFile(dir.resolve("unet/model.onnx"));
    }

    public Path dir() {
        return dir;
    }

    public String id() {
        return id;
    }

    public Path part(String name) {
        return dir.resolve(name).resolve("model.onnx");
    }

    public boolean hasPart(String name) {
        return Files.isRegularFile(part(name));
    }

    public Path tokenizerDir() {
        return dir.resolve("tokenizer");
    }

    /**
     * The text side as far as the files tell it, without opening the encoder: enough to count tokens
     * (tokenizer, sequence length from text_encoder/config.json else 77, width), which never encodes.
     */
    public io.jdiffusion.api.TextModel unloadedTextModel() {
        Map<String, Object> cfg = readJsonIfPresent("text_encoder/config.json");
        int maxLength = cfg.get("max_position_embeddings") instanceof Number n ? n.intValue() : 77;
        int width = cfg.get("hidden_size") instanceof Number n ? n.intValue() : 0;
        return new PlainTextModel(tokenizerDir(), maxLength, width, (ids, sequences) -> {
            throw new IllegalStateException("model " + id + " is not loaded; token counting does not encode");
        });
    }

    public SchedulerConfig schedulerConfig() {
        return new SchedulerConfig(readJson("scheduler/scheduler_config.json"));
    }

    /**
     * {@code vae_decoder/config.json}'s {@code scaling_factor}; without a VAE config SDXL's 0.13025 for a UNet that
     * takes SDXL's text_embeds + time_ids (every SDXL VAE uses it), else SD's 0.18215 as diffusers' ONNX pipeline
     * assumes.
     */
    public double vaeScalingFactor() {
        for (String part : List.of("vae_decoder", "vae_encoder", "vae")) {
            Map<String, Object> cfg = readJsonIfPresent(part + "/config.json");
            if (cfg.get("scaling_factor") instanceof Number n) {
                return n.doubleValue();
            }
        }
        OnnxGraphInputs graph = unetGraph();
        if (graph != null && graph.inputs().containsKey("text_embeds") && graph.inputs().containsKey("time_ids")) {
            return SDXL_VAE_SCALING_FACTOR;
        }
        return SD_VAE_SCALING_FACTOR;
    }

    /** Pixels per latent cell: 2^(len(block_out_channels)-1) from the VAE config, else 8. */
    public int vaeFactor() {
        for (String part : List.of("vae_decoder", "vae_encoder", "vae")) {
            Map<String, Object> cfg = readJsonIfPresent(part + "/config.json");
            if (cfg.get("block_out_channels") instanceof List<?> l && !l.isEmpty()) {
                return 1 << (l.size() - 1);
            }
        }
        return 8;
    }

    /**
     * The UNet's {@code sample_size} (latent cells). Without a UNet config: the graph's fixed sample height, else
     * 128 for an SDXL UNet (inputs text_embeds + time_ids), 96 for a 1024-wide v-prediction one (SD 2.x 768-v),
     * else 64, the sizes those families are trained at.
     */
    public int unetSampleSize() {
        Map<String, Object> cfg = readJsonIfPresent("unet/config.json");
        if (cfg.get("sample_size") instanceof Number n) {
            return n.intValue();
        }
        OnnxGraphInputs graph = unetGraph();
        if (graph == null || !graph.inputs().containsKey("sample")) {
            return 64;
        }
        long h = graph.inputs().get("sample").dim(2);
        if (h > 0) {
            return (int) h;
        }
        if (graph.inputs().containsKey("text_embeds") && graph.inputs().containsKey("time_ids")) {
            return 128;
        }
        OnnxGraphInputs.Value ehs = graph.inputs().get("encoder_hidden_states");
        Object prediction = readJsonIfPresent("scheduler/scheduler_config.json").get("prediction_type");
        return ehs != null && ehs.dim(2) == 1024 && "v_prediction".equals(prediction) ? 96 : 64;
    }

    /** The UNet graph's declared inputs and outputs (read without loading it), or null when unreadable. */
    public OnnxGraphInputs unetGraph() {
        if (!hasPart("unet")) {
            return null;
        }
        try {
            return OnnxGraphInputs.read(part("unet"));
        } catch (java.io.IOException e) {
            return null;
        }
    }

    public Map<String, Object> readJsonIfPresent(String relative) {
        Path p = dir.resolve(relative);
        return Files.isRegularFile(p) ? readJson(relative) : Map.of();
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> readJson(String relative) {
        Path p = dir.resolve(relative);
        try {
            return JSON.readValue(p.toFile(), LinkedHashMap.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }
}
