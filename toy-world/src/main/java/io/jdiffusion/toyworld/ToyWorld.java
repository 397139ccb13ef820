package io.jdiffusion.toyworld;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.math.BigDecimal;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes the toy world: a complete model folder in the layout of diffusers' ONNX Stable Diffusion export
 * (model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae_encoder/, vae_decoder/).
 */
public final class ToyWorld {
    /** Changes whenever the written folder changes; use it (with {@link ToyWorldOptions#key()}) as a cache key. */
    public static final String VERSION = "toy-world-3";
    /** Marker file at the folder root naming the version and options that wrote it. */
    public static final String MARKER = "toy_world.json";
    static final String DIFFUSERS_VERSION = "0.30.0";

    /** Pretty JSON the way Python's json.dumps(indent=2) looks: {@code "key": value}. */
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private ToyWorld() {
    }

    /** {@link #write(Path, ToyWorldOptions)} with {@link ToyWorldOptions#defaults()}. */
    public static Path write(Path dir) throws IOException {
        return write(dir, ToyWorldOptions.defaults());
    }

    /**
     * Writes the folder into a temporary sibling, then moves it into place (replacing what was at {@code dir}).
     * Readers never see a half-written folder; concurrent writers of the same options are fine.
     *
     * @return {@code dir}
     */
    public static Path write(Path dir, ToyWorldOptions options) throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        String name = target.getFileName().toString();
        Path tmp = Files.createTempDirectory(parent, "." + name + ".tmp-");
        try {
            try { // createTempDirectory makes it owner-only; the folder is meant to be readable like any other
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            writeInto(tmp, options);
            Path old = null;
            if (Files.exists(target)) {
                old = Files.createTempDirectory(parent, "." + name + ".old-");
                Files.delete(old);
                try {
                    move(target, old);
                } catch (NoSuchFileException gone) { // another writer moved it away first
                    old = null;
                }
            }
            try {
                move(tmp, target);
            } catch (FileSystemException raced) { // e.g. "Directory not empty" from rename(2)
                // another process put a folder there meanwhile; fine if it is the same thing
                if (!isCurrent(target, options)) throw raced;
                deleteRecursively(tmp);
            } finally {
                if (old != null) deleteRecursively(old);
            }
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
        return dir;
    }

    /** Whether {@code dir} holds a folder written by this {@link #VERSION} with these options. */
    public static boolean isCurrent(Path dir, ToyWorldOptions options) {
        Path marker = dir.resolve(MARKER);
        if (!Files.isRegularFile(marker)) return false;
        try {
            Map<?, ?> m = JSON.readValue(marker.toFile(), Map.class);
            return VERSION.equals(m.get("version")) && options.key().equals(m.get("key"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes the folder unless {@link #isCurrent} already; returns {@code dir}. */
    public static Path ensure(Path dir, ToyWorldOptions options) throws IOException {
        if (!isCurrent(dir, options)) write(dir, options);
        return dir;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteRecursively(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }

    /** Writes every file of the folder into an existing, empty directory. */
    static void writeInto(Path dir, ToyWorldOptions o) throws IOException {
        BpeVocabulary vocab = BpeVocabulary.build();

        json(dir.resolve("model_index.json"), modelIndex());
        json(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig(o));

        Path tok = Files.createDirectories(dir.resolve("tokenizer"));
        Files.writeString(tok.resolve("vocab.json"), JSON.writeValueAsString(vocab.vocab()), StandardCharsets.UTF_8); // one line, as HF writes it
        Files.writeString(tok.resolve("merges.txt"), vocab.mergesText(), StandardCharsets.UTF_8);
        json(tok.resolve("special_tokens_map.json"), specialTokensMap());
        json(tok.resolve("tokenizer_config.json"), tokenizerConfig(vocab));

        Path te = dir.resolve("text_encoder");
        bytes(te.resolve("model.onnx"), TextEncoderModel.build(vocab, o).toByteArray());
        json(te.resolve("config.json"), textEncoderConfig(vocab, o));

        Path unet = dir.resolve("unet");
        bytes(unet.resolve("model.onnx"), UnetModel.build(o).toByteArray());
        json(unet.resolve("config.json"), unetConfig(o));

        Path enc = dir.resolve("vae_encoder");
        bytes(enc.resolve("model.onnx"), VaeModel.encoder().toByteArray());
        json(enc.resolve("config.json"), vaeConfig());
        Path dec = dir.resolve("vae_decoder");
        bytes(dec.resolve("model.onnx"), VaeModel.decoder().toByteArray());
        json(dec.resolve("config.json"), vaeConfig());

        Map<String, Object> marker = new LinkedHashMap<>();
        marker.put("version", VERSION);
        marker.put("key", o.key());
        marker.put("hidden_width", o.hiddenWidth());
        marker.put("ids_type", o.idsType().name());
        marker.put("timestep_type", o.timestepType().name());
        marker.put("prediction_type", o.predictionType());
        marker.put("seed", o.seed());
        marker.put("unet_variant", o.unetVariant().name());
        json(dir.resolve(MARKER), marker);
    }

    private static void json(Path file, Object value) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, PRETTY.writeValueAsString(value) + "\n", StandardCharsets.UTF_8);
    }

    private static void bytes(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, data);
    }

    static Map<String, Object> modelIndex() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "OnnxStableDiffusionPipeline");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("feature_extractor", Arrays.asList(null, null));
        m.put("requires_safety_checker", false);
        m.put("safety_checker", Arrays.asList(null, null));
        m.put("scheduler", List.of("diffusers", "PNDMScheduler"));
        m.put("text_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        m.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
        m.put("unet", List.of("diffusers", "OnnxRuntimeModel"));
        m.put("vae_decoder", List.of("diffusers", "OnnxRuntimeModel"));
        m.put("vae_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        return m;
    }

    static Map<String, Object> schedulerConfig(ToyWorldOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "PNDMScheduler");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("beta_end", new BigDecimal("0.012"));
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", new BigDecimal("0.00085"));
        m.put("clip_sample", false);
        m.put("num_train_timesteps", 1000);
        m.put("prediction_type", o.predictionType());
        m.put("set_alpha_to_one", false);
        m.put("skip_prk_steps", true);
        m.put("steps_offset", 1);
        m.put("trained_betas", null);
        return m;
    }

    private static Map<String, Object> addedToken(String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("content", content);
        m.put("lstrip", false);
        m.put("normalized", true);
        m.put("rstrip", false);
        m.put("single_word", false);
        return m;
    }

    static Map<String, Object> specialTokensMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bos_token", addedToken(ClipBpe.BOS));
        m.put("eos_token", addedToken(ClipBpe.EOS));
        m.put("pad_token", ClipBpe.EOS);
        m.put("unk_token", addedToken(ClipBpe.EOS));
        return m;
    }

    static Map<String, Object> tokenizerConfig(BpeVocabulary vocab) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("add_prefix_space", false);
        Map<String, Object> added = new LinkedHashMap<>();
        Map<String, Object> bos = addedToken(ClipBpe.BOS);
        bos.put("special", true);
        Map<String, Object> eos = addedToken(ClipBpe.EOS);
        eos.put("special", true);
        added.put(String.valueOf(vocab.bosId()), bos);
        added.put(String.valueOf(vocab.eosId()), eos);
        m.put("added_tokens_decoder", added);
        m.put("bos_token", ClipBpe.BOS);
        m.put("clean_up_tokenization_spaces", true);
        m.put("do_lower_case", true);
        m.put("eos_token", ClipBpe.EOS);
        m.put("errors", "replace");
        m.put("model_max_length", ToyTokenizer.MODEL_MAX_LENGTH);
        m.put("pad_token", ClipBpe.EOS);
        m.put("tokenizer_class", "CLIPTokenizer");
        m.put("unk_token", ClipBpe.EOS);
        return m;
    }

    static Map<String, Object> textEncoderConfig(BpeVocabulary vocab, ToyWorldOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_name_or_path", "jdiffusion/toy-world");
        m.put("architectures", List.of("CLIPTextModel"));
        m.put("bos_token_id", vocab.bosId());
        m.put("eos_token_id", vocab.eosId());
        m.put("hidden_act", "quick_gelu");
        m.put("hidden_size", o.hiddenWidth());
        m.put("max_position_embeddings", ToyTokenizer.MODEL_MAX_LENGTH);
        m.put("model_type", "clip_text_model");
        m.put("pad_token_id", vocab.eosId());
        m.put("projection_dim", o.hiddenWidth());
        m.put("torch_dtype", "float32");
        m.put("vocab_size", vocab.size());
        Map<String, Object> layout = new LinkedHashMap<>();
        layout.put("version", VERSION);
        layout.put("shape_offset", TextFeatures.SHAPE_OFFSET);
        layout.put("colour_offset", TextFeatures.COLOUR_OFFSET);
        layout.put("background_dim", TextFeatures.BACKGROUND_DIM);
        layout.put("fg_offset", TextFeatures.FG_OFFSET);
        layout.put("bg_offset", TextFeatures.BG_OFFSET);
        layout.put("feature_dims", TextFeatures.FEATURE_DIMS);
        layout.put("shapes", World.SHAPES);
        layout.put("colours", World.COLOURS);
        m.put("toy_world", layout);
        return m;
    }

    static Map<String, Object> unetConfig(ToyWorldOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "UNet2DConditionModel");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("act_fn", "silu");
        m.put("attention_head_dim", 8);
        m.put("block_out_channels", List.of(320, 640, 1280, 1280));
        m.put("center_input_sample", false);
        m.put("cross_attention_dim", o.hiddenWidth());
        m.put("down_block_types", List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"));
        m.put("flip_sin_to_cos", true);
        m.put("freq_shift", 0);
        m.put("in_channels", 4 + o.unetVariant().extraChannels());
        m.put("layers_per_block", 2);
        m.put("norm_eps", 1e-05);
        m.put("norm_num_groups", 32);
        m.put("out_channels", 4);
        m.put("sample_size", 64);
        m.put("up_block_types", List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"));
        return m;
    }

    static Map<String, Object> vaeConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "AutoencoderKL");
        m.put("_diffusers_version", DIFFUSERS_VERSION);
        m.put("act_fn", "silu");
        m.put("block_out_channels", List.of(128, 256, 512, 512));
        m.put("down_block_types", List.of("DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"));
        m.put("in_channels", 3);
        m.put("latent_channels", 4);
        m.put("layers_per_block", 2);
        m.put("norm_num_groups", 32);
        m.put("out_channels", 3);
        m.put("sample_size", 512);
        m.put("scaling_factor", new BigDecimal("0.18215")); // == ToyVae.SCALING_FACTOR, written as Python does
        m.put("up_block_types", List.of("UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"));
        return m;
    }
}
