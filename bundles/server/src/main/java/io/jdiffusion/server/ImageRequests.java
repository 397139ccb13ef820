package io.jdiffusion.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bodies of the modes that take images ({@code img2img}, {@code inpaint}): the txt2img JSON with
 * base64 images, or {@code multipart/form-data} (e.g. {@code curl -F init_image=@photo.png -F prompt=...})
 * where an image is a file part and the other fields are text parts. A form is turned into the
 * same JSON object, so both are checked by the same code.
 */
final class ImageRequests {
    /** Form fields that stay text even when they look like numbers (a prompt "42", a seed of 20 digits). */
    private static final Set<String> TEXT = Set.of("prompt", "negative_prompt", "sampler", "schedule", "model", "seed",
            "resize_mode", "mode");

    private ImageRequests() {
    }

    static GenerationRequest parse(String mode, Context ctx) {
        if (!ctx.isMultipartFormData()) {
            return Txt2ImgRequests.parse(mode, ctx.bodyAsBytes());
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        for (Map.Entry<String, List<String>> e : ctx.formParamMap().entrySet()) {
            if (!e.getValue().isEmpty()) {
                put(o, e.getKey(), e.getValue().get(e.getValue().size() - 1));
            }
        }
        for (Map.Entry<String, List<UploadedFile>> e : ctx.uploadedFileMap().entrySet()) {
            if (!e.getValue().isEmpty()) {
                o.put(e.getKey(), Base64.getEncoder().encodeToString(bytes(e.getKey(), e.getValue().get(0))));
            }
        }
        return Txt2ImgRequests.fromJson(mode, o);
    }

    /**
     * The request under the mode its body names ({@code mode: "depth2img"} on {@code POST /api/v1/img2img}, as
     * the API lets one endpoint serve every image mode); without one, as it was parsed.
     */
    static GenerationRequest withBodyMode(GenerationRequest r) {
        Object mode = r.params().get("mode");
        if (mode == null) {
            return r;
        }
        if (!(mode instanceof String name) || name.isBlank()) {
            throw new InvalidRequestException("mode", "must be the name of a mode, e.g. img2img, depth2img or inpaint");
        }
        Map<String, Object> params = new java.util.LinkedHashMap<>(r.params());
        params.remove("mode");
        return new GenerationRequest(name.strip(), r.prompt(), r.negativePrompt(), r.sampler(), r.schedule(), r.steps(),
                r.cfgScale(), r.seed(), r.width(), r.height(), r.batchSize(), r.model(), params);
    }

    static void put(ObjectNode o, String name, String value) {
        if (!TEXT.contains(name)) {
            try {
                o.put(name, new BigDecimal(value.strip()));
                return;
            } catch (NumberFormatException e) {
                // not a number: sent as text, and the field's own check names it
            }
        }
        o.put(name, value);
    }

    private static byte[] bytes(String field, UploadedFile file) {
        try (InputStream in = file.content()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new InvalidRequestException(field, "could not read the uploaded file: " + e.getMessage());
        }
    }
}
