package io.jdiffusion.engine.image;

import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.service.InvalidRequestException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A mode's image inputs decoded and fitted to the request's size, before the request is queued. */
public final class ImageInputs {
    private ImageInputs() {
    }

    /** {@code inputs} with each present image input replaced by its {@link RgbImage} of {@code width x height}. */
    public static Map<String, Object> prepare(Map<String, Object> inputs, Set<String> imageNames, int width, int height) {
        return prepare(inputs, imageNames, Map.of(), width, height);
    }

    /**
     * As {@link #prepare(Map, Set, int, int)}, first refusing an image whose size differs from the image it must
     * match ({@code sameSize}: input -> input, as {@code GenerationMode.sameSizeImages()}) with a 400 naming it.
     */
    public static Map<String, Object> prepare(Map<String, Object> inputs, Set<String> imageNames,
                                              Map<String, String> sameSize, int width, int height) {
        if (imageNames.isEmpty()) {
            return inputs;
        }
        ResizeMode resize = ResizeMode.parse(inputs.get(ResizeMode.FIELD));
        Map<String, RgbImage> decoded = new LinkedHashMap<>();
        for (String name : imageNames) {
            Object v = inputs.get(name);
            if (v != null) { // a missing one: the mode's check() says whether it is required
                decoded.put(name, v instanceof RgbImage r ? r : ImageDecoder.decode(name, v));
            }
        }
        sameSize.forEach((name, other) -> {
            RgbImage a = decoded.get(name);
            RgbImage b = decoded.get(other);
            if (a != null && b != null && (a.width() != b.width() || a.height() != b.height())) {
                throw new InvalidRequestException(name, "is " + a.width() + "x" + a.height() + " but " + other + " is "
                        + b.width() + "x" + b.height() + "; send it at the size of " + other);
            }
        });
        Map<String, Object> out = new LinkedHashMap<>(inputs);
        decoded.forEach((name, img) -> out.put(name, resize.apply(img, width, height)));
        return out;
    }
}
