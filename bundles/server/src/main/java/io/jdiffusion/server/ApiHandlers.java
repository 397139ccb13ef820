package io.jdiffusion.server;

import io.javalin.http.Context;
import io.jdiffusion.api.ParameterSpec;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.PluginDescription;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON API of docs/contracts.md: one small method per route, each a thin layer over {@link GenerationService}. */
final class ApiHandlers {
    private final GenerationService engine;

    ApiHandlers(GenerationService engine) {
        this.engine = engine;
    }

    /** {@code POST /api/v1/txt2img}: {@code {images: [base64 PNG], info}}. */
    void txt2img(Context ctx) {
        GenerationRequest request = Txt2ImgRequests.parse("txt2img", ctx.bodyAsBytes());
        GenerationResult result = engine.generate(request, Progress.NONE);
        Json.write(ctx, imagesResponse(result));
    }

    /**
     * {@code POST /api/v1/img2img}: the txt2img fields plus {@code init_image} (base64, a data: URL
     * allowed), {@code strength} and {@code resize_mode}, as JSON or as a multipart form with the image
     * as a file part; the same response. The engine decodes and checks the image, so a bad one is a
     * 400 naming {@code init_image}.
     */
    void img2img(Context ctx) {
        GenerationRequest request = ImageRequests.withBodyMode(ImageRequests.parse("img2img", ctx));
        GenerationResult result = engine.generate(request, Progress.NONE);
        Json.write(ctx, imagesResponse(result));
    }

    /** {@code POST /api/v1/inpaint}: img2img's fields plus {@code mask} (base64, white = repaint) and {@code mask_blur}. */
    void inpaint(Context ctx) {
        GenerationRequest request = ImageRequests.parse("inpaint", ctx);
        GenerationResult result = engine.generate(request, Progress.NONE);
        Json.write(ctx, imagesResponse(result));
    }

    /** {@code POST /api/v1/depth2img}: img2img's fields plus an optional {@code depth_map} (base64, white = near). */
    void depth2img(Context ctx) {
        GenerationRequest request = ImageRequests.parse("depth2img", ctx);
        GenerationResult result = engine.generate(request, Progress.NONE);
        Json.write(ctx, imagesResponse(result));
    }

    /**
     * {@code POST /api/v1/depth} {@code {init_image, model}}: {@code {image: base64 PNG}}, the depth the model's
     * estimator sees in the image (grey, white = near), for the UI's depth preview.
     */
    void depth(Context ctx) {
        com.fasterxml.jackson.databind.JsonNode body = Txt2ImgRequests.readObject(ctx.bodyAsBytes());
        String model = Txt2ImgRequests.string(body, "model");
        com.fasterxml.jackson.databind.JsonNode image = body.get("init_image");
        byte[] png = engine.estimateDepth(model, image == null || image.isNull() ? null
                : image.isTextual() ? image.asText() : image.toString());
        Json.write(ctx, java.util.Map.of("image", java.util.Base64.getEncoder().encodeToString(png)));
    }

    void samplers(Context ctx) {
        Json.write(ctx, plugins(engine.samplers()));
    }

    void modes(Context ctx) {
        Json.write(ctx, plugins(engine.modes()));
    }

    void schedules(Context ctx) {
        Json.write(ctx, plugins(engine.schedules()));
    }

    void models(Context ctx) {
        Json.write(ctx, engine.models());
    }

    /** {@code POST /api/v1/models/{id}/unload}: {@code {unloaded: true|false}}; 404 naming the known ids when unknown. */
    void unloadModel(Context ctx) {
        String id = ctx.pathParam("id");
        boolean unloaded;
        try {
            unloaded = engine.unloadModel(id);
        } catch (java.util.NoSuchElementException e) {
            Json.write(ctx, 404, HttpServer.error(e.getMessage(), "id"));
            return;
        }
        Json.write(ctx, Map.of("unloaded", unloaded));
    }

    void health(Context ctx) {
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("status", "ok");
        Map<String, Object> fromEngine = engine.health();
        if (fromEngine != null) {
            health.putAll(fromEngine);
        }
        Json.write(ctx, health);
    }

    /** {@code GET /api/v1/tokens?prompt=...&model=...}: {@code {tokens: N}}. */
    void tokens(Context ctx) {
        String prompt = ctx.queryParam("prompt");
        String model = ctx.queryParam("model");
        int n = engine.countTokens(model == null || model.isBlank() ? null : model, prompt == null ? "" : prompt);
        Json.write(ctx, Map.of("tokens", n));
    }

    static Map<String, Object> imagesResponse(GenerationResult result) {
        Base64.Encoder b64 = Base64.getEncoder();
        List<String> images = new ArrayList<>(result.images().size());
        for (byte[] png : result.images()) {
            images.add(b64.encodeToString(png));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("images", images);
        body.put("info", result.info() == null ? Map.of() : result.info());
        return body;
    }

    /** A bound or default as JSON: null for an infinite or undefined one (JSON has no Infinity). */
    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** {@code [{id, label, bundle, parameters: [{name, default, min, max, help}]}]}. */
    static List<Map<String, Object>> plugins(List<PluginDescription> list) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (PluginDescription d : list) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", d.id());
            m.put("label", d.label());
            m.put("bundle", d.bundle());
            List<Map<String, Object>> params = new ArrayList<>();
            if (d.parameters() != null) {
                for (ParameterSpec p : d.parameters()) {
                    Map<String, Object> pm = new LinkedHashMap<>();
                    pm.put("name", p.name());
                    pm.put("default", finite(p.defaultValue()));
                    pm.put("min", finite(p.min()));
                    pm.put("max", finite(p.max()));
                    pm.put("help", p.help());
                    params.add(pm);
                }
            }
            m.put("parameters", params);
            m.put("schema", schema(d));
            out.add(m);
        }
        return out;
    }

    /**
     * The plugin's parameters as a JSON Schema (draft 2020-12) object, so scripts can validate a
     * request before sending it; infinite bounds are left out.
     */
    static Map<String, Object> schema(PluginDescription d) {
        Map<String, Object> props = new LinkedHashMap<>();
        if (d.parameters() != null) {
            for (ParameterSpec p : d.parameters()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("type", "number");
                if (Double.isFinite(p.defaultValue())) {
                    pm.put("default", p.defaultValue());
                }
                if (Double.isFinite(p.min())) {
                    pm.put("minimum", p.min());
                }
                if (Double.isFinite(p.max())) {
                    pm.put("maximum", p.max());
                }
                pm.put("description", p.help());
                props.put(p.name(), pm);
            }
        }
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("title", d.label());
        schema.put("type", "object");
        schema.put("properties", props);
        return schema;
    }
}
