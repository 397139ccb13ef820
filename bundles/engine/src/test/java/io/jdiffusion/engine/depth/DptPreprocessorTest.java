package io.jdiffusion.engine.depth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.DepthEstimator.DepthMap;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import io.jdiffusion.toyworld.World;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DptPreprocessorTest {
    /** A 7 x 5 RGB test card: value (37x + 91y + 53c + 11xy) mod 256. */
    static int[] card() {
        int w = 7, h = 5;
        int[] px = new int[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) px[(c * h + y) * w + x] = (37 * x + 91 * y + 53 * c + 11 * x * y) % 256;
        return px;
    }

    /**
     * Pillow 12.3.0, {@code Image.fromarray(card).resize((w, h), filter)} transposed to planar: the numbers the
     * reference printed for this card.
     */
    @Test
    void resizeMatchesPillow() {
        assertArrayEquals(new int[] {56, 129, 123, 159, 153, 140, 133, 116, 100, 112, 115, 88, 114, 149, 149, 133, 143,
                126, 118, 111, 157, 131, 134, 146, 164, 146, 172, 122, 115, 119, 100, 130, 139, 97, 114, 132},
                PilResize.resize(card(), 3, 5, 7, 3, 4, PilResize.BICUBIC), "bicubic down to 4x3");
        assertArrayEquals(new int[] {57, 123, 163, 151, 142, 105, 119, 138, 128, 112, 109, 81, 110, 150, 148, 158, 121,
                112, 126, 117, 135, 165, 136, 134, 149, 177, 118, 141, 114, 143, 109, 110, 112, 121, 118, 123},
                PilResize.resize(card(), 3, 5, 7, 4, 3, PilResize.BILINEAR), "bilinear to 3x4");
        int[] up = PilResize.resize(card(), 3, 5, 7, 8, 9, PilResize.BICUBIC);
        assertArrayEquals(new int[] {0, 15, 45, 73, 102, 146, 178, 208, 231, 31, 55, 95, 138, 167, 104, 109, 155, 190},
                java.util.Arrays.copyOf(up, 18), "bicubic up to 9x8, first two rows of red");
        assertArrayEquals(new int[] {7, 59, 111, 163, 215, 99, 176, 199, 38, 115},
                java.util.Arrays.copyOf(PilResize.resize(card(), 3, 5, 7, 5, 5, PilResize.LANCZOS), 10), "lanczos 5x5");
    }

    /** SD 2 depth's settings: 384 x 384 bicubic, x / 255, (x - 0.5) / 0.5. */
    @Test
    void pixelValuesAsDptImageProcessor() {
        Map<String, Object> cfg = Map.of("size", Map.of("height", 4, "width", 3), "resample", 2,
                "image_mean", List.of(0.5, 0.5, 0.5), "image_std", List.of(0.5, 0.5, 0.5), "keep_aspect_ratio", false);
        DptPreprocessor p = DptPreprocessor.fromConfig(cfg);
        int[] card = card();
        float[] rgb = new float[card.length];
        for (int i = 0; i < rgb.length; i++) rgb[i] = card[i] / 255f;
        float[] out = p.apply(new RgbImage(7, 5, rgb));
        int[] want = PilResize.resize(card, 3, 5, 7, 4, 3, PilResize.BILINEAR);
        assertEquals(want.length, out.length);
        for (int i = 0; i < out.length; i++) assertEquals((want[i] / 255.0 - 0.5) / 0.5, out[i], 1e-6, "value " + i);
        assertEquals(57, want[0]); // Pillow's value, as above
    }

    /** DPT's get_resize_output_image_size: the scale nearer 1 for both sides, then a multiple of ensure_multiple_of. */
    @Test
    void keepAspectRatioAndMultiple() {
        DptPreprocessor p = DptPreprocessor.fromConfig(Map.of("size", Map.of("height", 384, "width", 384),
                "keep_aspect_ratio", true, "ensure_multiple_of", 32));
        assertArrayEquals(new int[] {384, 512}, p.outputSize(480, 640)); // scale 0.8 (not 0.6): 384 x 512
        assertArrayEquals(new int[] {384, 384}, DptPreprocessor.fromConfig(Map.of()).outputSize(480, 640));
        assertArrayEquals(new int[] {384, 384}, DptPreprocessor.fromConfig(Map.of("size", 384)).outputSize(100, 50));
    }

    /** The toy world's depth folder through the engine's estimator: the red square is near, the white far. */
    @Test
    void toyEstimatorOnARedSquare() throws Exception {
        Path dir = Files.createTempDirectory("depth-estimator").resolve("toy");
        ToyWorld.write(dir, ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.DEPTH));
        @SuppressWarnings("unchecked")
        Map<String, Object> cfg = new ObjectMapper().readValue(
                dir.resolve(OnnxDepthEstimator.PREPROCESSOR_CONFIG).toFile(), Map.class);
        OnnxRuntime rt = new OnnxRuntime(OnnxRuntime.Device.CPU);
        int side = 256;
        float[] rgb = new float[3 * side * side];
        int[] red = World.rgb("red"), white = World.rgb("white");
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                boolean in = x >= side / 4 && x < 3 * side / 4 && y >= side / 4 && y < 3 * side / 4;
                for (int c = 0; c < 3; c++) rgb[(c * side + y) * side + x] = (in ? red[c] : white[c]) / 255f;
            }
        try (OrtSession s = rt.open(dir.resolve("depth_estimator/model.onnx"))) {
            DepthMap d = new OnnxDepthEstimator(rt.env(), s, DptPreprocessor.fromConfig(cfg))
                    .estimate(new RgbImage(side, side, rgb));
            assertEquals(384, d.width());
            assertEquals(384, d.height());
            assertTrue(d.get(192, 192) > 100, "centre near: " + d.get(192, 192));
            assertEquals(0, d.get(5, 5), 1e-3, "corner far");
            assertEquals(0, d.get(192, 60), 1e-3, "above the square far");
            assertTrue(d.get(192, 120) > 100, "inside the square's top edge near");
        }
    }
}
