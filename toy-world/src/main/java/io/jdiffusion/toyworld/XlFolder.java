package io.jdiffusion.toyworld;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON files of an SDXL-shaped folder, as an Optimum export of stabilityai/stable-diffusion-xl-base-1.0 carries
 * them (ORTStableDiffusionXLPipeline.save_pretrained: the base repo's configs, ONNX parts in vae_decoder/ and
 * vae_encoder/).
 */
final class XlFolder {
    /** SDXL's VAE (sdxl-vae) {@code scaling_factor}. */
    static final double VAE_SCALING_FACTOR = 0.13025;
    /** tokenizer_2 (OpenCLIP's) pads with "!" (id 0), as the SDXL repo's tokenizer_2/special_tokens_map.json says. */
    static final String PAD_TOKEN_2 = "!";

    private XlFolder() {
    }

    /** The SD index with SDXL's parts and pipeline, keys sorted as diffusers writes them. */
    static Map<String, Object> modelIndex() {
        Map<String, Object> m = new java.util.TreeMap<>(ToyWorld.modelIndex());
        m.put("_class_name", "ORTStableDiffusionXLPipeline");
        m.remove("requires_safety_checker"); // SDXL has no safety checker
        m.remove("safety_checker");
        m.put("force_zeros_for_empty_prompt", true);
        m.put("image_encoder", Arrays.asList(null, null));
        m.put("scheduler", List.of("diffusers", "EulerDiscreteScheduler"));
        m.put("text_encoder_2", List.of("diffusers", "OnnxRuntimeModel"));
        m.put("tokenizer_2", List.of("transformers", "CLIPTokenizer"));
        return m;
    }

    /** SDXL base's EulerDiscreteScheduler config. */
    static Map<String, Object> schedulerConfig(ToyWorldOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "EulerDiscreteScheduler");
        m.put("_diffusers_version", ToyWorld.DIFFUSERS_VERSION);
        m.put("beta_end", new BigDecimal("0.012"));
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", new BigDecimal("0.00085"));
        m.put("clip_sample", false);
        m.put("interpolation_type", "linear");
        m.put("num_train_timesteps", 1000);
        m.put("prediction_type", o.predictionType());
        m.put("sample_max_value", new BigDecimal("1.0"));
        m.put("set_alpha_to_one", false);
        m.put("skip_prk_steps", true);
        m.put("steps_offset", 1);
        m.put("timestep_spacing", "leading");
        m.put("trained_betas", null);
        m.put("use_karras_sigmas", false);
        return m;
    }

    /** text_encoder_2/config.json: CLIPTextModelWithProjection, 1280 wide, projection_dim 1280. */
    static Map<String, Object> secondEncoderConfig(Map<String, Object> first, ToyWorldOptions o) {
        Map<String, Object> m = new LinkedHashMap<>(first);
        m.put("architectures", List.of("CLIPTextModelWithProjection"));
        m.put("hidden_act", "gelu");
        m.put("hidden_size", ToyWorldOptions.XL_SECOND_WIDTH);
        m.put("num_hidden_layers", XlTextEncoders.LAYERS);
        m.put("projection_dim", ToyWorldOptions.XL_SECOND_WIDTH);
        m.remove("toy_world");
        return m;
    }

    /** SDXL base's UNet config additions: text-time embeddings, 2048-wide cross attention (set by the caller). */
    static Map<String, Object> unetConfig(Map<String, Object> base) {
        Map<String, Object> m = new LinkedHashMap<>(base);
        m.put("addition_embed_type", "text_time");
        m.put("addition_embed_type_num_heads", 64);
        m.put("addition_time_embed_dim", 256);
        m.put("attention_head_dim", List.of(5, 10, 20));
        m.put("block_out_channels", List.of(320, 640, 1280));
        m.put("down_block_types", List.of("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"));
        m.put("projection_class_embeddings_input_dim", 2816);
        m.put("transformer_layers_per_block", List.of(1, 2, 10));
        m.put("up_block_types", List.of("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"));
        m.put("use_linear_projection", true);
        return m;
    }

    /** sdxl-vae: scaling_factor 0.13025, force_upcast, 1024 px. */
    static Map<String, Object> vaeConfig(Map<String, Object> base) {
        Map<String, Object> m = new LinkedHashMap<>(base);
        m.put("force_upcast", true);
        m.put("sample_size", 1024);
        m.put("scaling_factor", new BigDecimal("0.13025"));
        return m;
    }
}
