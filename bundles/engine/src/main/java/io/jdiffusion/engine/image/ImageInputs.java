package io.jdiffusion.engine.image;

import io.jdiffusion.api.RgbImage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A mode's image inputs decoded and fitted to the request's size, before the request is queued. */
public final class ImageInputs {
    private ImageInputs() {
    }

    /** {@code inputs} with each present image input replaced by its {@link RgbImage} of {@code width x height}. */
    public static Map<String, Object> prepare(Map<String, Object> inputs, Set<String> imageNames, int width, int height) {
        if (imageNames.isEmpty()) {
            return inputs;
        }
        ResizeMode resize = ResizeMode.parse(inputs.get(ResizeMode.FIELD));
        Map<String, Object> out = new LinkedHashMap<>(inputs);
        for (String name : imageNames) {
            Object v = inputs.get(name);
            if (v == null) {
                continue; // the mode's check() says whether it is required
            }
            RgbImage img = v instanceof RgbImage r ? r : ImageDecoder.decode(name, v);
            out.put(name, resize.apply(img, width, height));
        }
        return out;
    }
}
