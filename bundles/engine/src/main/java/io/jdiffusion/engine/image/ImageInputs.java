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
        return fit(inputs, decode(inputs, imageNames, sameSize), width, height);
    }

    /**
     * The present image inputs decoded at their own size (a missing one is left to the mode's check()), an image
     * whose size differs from the one it must match ({@code sameSize}) refused with a 400 naming it.
     */
    public static Map<String, RgbImage> decode(Map<String, Object> inputs, Set<String> imageNames,
                                               Map<String, String> sameSize) {
        Map<String, RgbImage> decoded = new LinkedHashMap<>();
        for (String name : imageNames) {
            Object v = inputs.get(name);
            if (v != null) {
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
        return decoded;
    }

    /** {@code inputs} with each decoded image fitted to {@code width x height} under the request's resize mode. */
    public static Map<String, Object> fit(Map<String, Object> inputs, Map<String, RgbImage> decoded, int width,
                                          int height) {
        if (decoded.isEmpty()) {
            return inputs;
        }
        ResizeMode resize = ResizeMode.parse(inputs.get(ResizeMode.FIELD));
        Map<String, Object> out = new LinkedHashMap<>(inputs);
        decoded.forEach((name, img) -> out.put(name, resize.apply(img, width, height)));
        return out;
    }

    /**
     * The output size of a request that names none but brings an image: the image's own, as diffusers' image
     * pipelines keep it, each side rounded down to a multiple of {@code multiple} (ONNX UNets take latents whose
     * sides divide by 8, so images whose sides divide by 64) and, above {@code max}, both sides scaled down alike.
     *
     * @return {@code {width, height}}
     */
    public static int[] naturalSize(RgbImage image, int multiple, int max) {
        double scale = Math.min(1.0, (double) max / Math.max(image.width(), image.height()));
        int w = Math.max(multiple, (int) (image.width() * scale) / multiple * multiple);
        int h = Math.max(multiple, (int) (image.height() * scale) / multiple * multiple);
        return new int[] {w, h};
    }
}
