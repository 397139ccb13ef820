package io.jdiffusion.engine;

import static io.jdiffusion.engine.EngineToyWorldTest.assertScene;
import static io.jdiffusion.engine.EngineToyWorldTest.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every model shape the loader must serve, each written by the toy world in the real exporters' layout and run
 * end to end from its folder through the Engine (real ONNX Runtime sessions, real CLIP conditioner): SD 1.x, SD 2.x
 * (1024-wide, v-prediction, 768x768), SDXL (two encoders, text_embeds + time_ids, 1024x1024), float16 SD 1.x and
 * SDXL, diffusers' unet/weights.pb and Optimum's model.onnx_data external data, and a folder without any
 * config.json. All live in one models directory, so switching between them is exercised too.
 */
class RealLayoutsEngineTest {
    private static final String PROMPT = "a red circle on a white background";
    private static Path modelsDir;
    private static Engine engine;

    @BeforeAll
    static void start() throws IOException {
        modelsDir = Path.of("target", "real-layouts").toAbsolutePath();
        ToyWorld.ensure(modelsDir.resolve("sd1"), ToyWorldOptions.defaults());
        ToyWorld.ensure(modelsDir.resolve("sd2"), ToyWorldOptions.sd2());
        ToyWorld.ensure(modelsDir.resolve("sdxl"), ToyWorldOptions.sdxl());
        ToyWorld.ensure(modelsDir.resolve("sd1-fp16"),
                ToyWorldOptions.defaults().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        ToyWorld.ensure(modelsDir.resolve("sdxl-fp16"),
                ToyWorldOptions.sdxl().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        ToyWorld.ensure(modelsDir.resolve("sd1-weights-pb"),
                ToyWorldOptions.defaults().withWeights(ToyWorldOptions.WeightsLayout.WEIGHTS_PB));
        ToyWorld.ensure(modelsDir.resolve("sdxl-onnx-data"),
                ToyWorldOptions.sdxl().withWeights(ToyWorldOptions.WeightsLayout.ONNX_DATA));
        Path bare = modelsDir.resolve("sdxl-no-configs");
        ToyWorld.write(bare, ToyWorldOptions.sdxl().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        for (String part : List.of("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder")) {
            Files.delete(bare.resolve(part).resolve("config.json"));
        }
        Path bareSd2 = modelsDir.resolve("sd2-no-configs");
        ToyWorld.write(bareSd2, ToyWorldOptions.sd2());
        for (String part : List.of("text_encoder", "unet", "vae_decoder", "vae_encoder")) {
            Files.delete(bareSd2.resolve(part).resolve("config.json"));
        }
        engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", modelsDir.resolve("sd1").toString());
        props.put("sd.models.dir", modelsDir.toString());
        props.put("sd.models.resident", "2");
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        engine.register(Sampler.class, new EulerSampler(), "euler", "Euler");
        engine.register(GenerationMode.class, new Txt2ImgMode(), "txt2img", "txt2img");
        engine.register(GenerationMode.class, new io.jdiffusion.modes.img2img.Img2ImgMode(), "img2img", "img2img");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.deactivate();
        }
    }

    /** The model's own default size (width/height null), Euler 20 steps, CFG 7.5. */
    private static GenerationResult generate(String model, String prompt, String negative, long seed) {
        return engine.generate(new GenerationRequest(null, prompt, negative, "euler", null, 20, 7.5,
                Long.toString(seed), null, null, 1, model, null), null);
    }

    private static BufferedImage draw(String model, int expectedSide) throws IOException {
        BufferedImage img = image(generate(model, PROMPT, null, 5), 0);
        assertEquals(expectedSide, img.getWidth(), model + " default width");
        assertEquals(expectedSide, img.getHeight(), model + " default height");
        assertScene(img, "red", "white");
        return img;
    }

    @Test
    void sd1At512() throws IOException {
        draw("sd1", 512);
    }

    @Test
    void sd2VPredictionAt768() throws IOException {
        draw("sd2", 768);
    }

    @Test
    void sdxlTwoEncodersAt1024() throws IOException {
        draw("sdxl", 1024);
        // another scene, so neither the shape nor the colours are a lucky default
        assertScene(image(generate("sdxl", "a yellow star on a purple background", null, 11), 0), "yellow", "purple");
    }

    @Test
    void sdxlShapeComesFromThePenultimateHiddenStates() throws IOException {
        // the toy encoders' last layer names the next shape over (square -> circle): only hidden_states[-2] draws
        // a square, whose corner region (0.45, 0.45 of the half-side) a circle of radius 0.6 leaves empty
        BufferedImage square = image(generate("sdxl", "a red square on a white background", null, 4), 0);
        assertScene(square, "red", "white");
        int w = square.getWidth();
        int h = square.getHeight();
        int off = (int) Math.round(0.45 * Math.min(w, h) / 2);
        for (int[] p : new int[][] {{w / 2 + off, h / 2 + off}, {w / 2 - off, h / 2 - off}}) {
            assertEquals("red", EngineToyWorldTest.colourAt(square, p[0], p[1]), "square corner at " + p[0] + "," + p[1]);
        }
        BufferedImage circle = image(generate("sdxl", PROMPT, null, 4), 0);
        assertEquals("white", EngineToyWorldTest.colourAt(circle, w / 2 + off, h / 2 + off), "outside the circle");
    }

    @Test
    void sdxlNonSquareNeedsTimeIdsInHeightWidthOrder() throws IOException {
        // time_ids = (H, W, 0, 0, H, W): with W != H a swapped order would spoil the toy UNet's picture
        BufferedImage img = image(engine.generate(new GenerationRequest(null, PROMPT, null, "euler", null, 20, 7.5,
                "3", 1024, 768, 1, "sdxl", null), null), 0);
        assertEquals(1024, img.getWidth());
        assertEquals(768, img.getHeight());
        assertScene(img, "red", "white");
    }

    @Test
    void sdxlEmptyNegativeIsZerosAndANegativePromptIsEncoded() throws IOException {
        // force_zeros_for_empty_prompt: "" and a negative that names nothing of the world give different pictures
        // only through the negative conditioning; both must still draw the scene
        GenerationResult zero = generate("sdxl", PROMPT, "", 9);
        GenerationResult text = generate("sdxl", PROMPT, "blurry", 9);
        assertScene(image(zero, 0), "red", "white");
        assertScene(image(text, 0), "red", "white");
        assertFalse(java.util.Arrays.equals(zero.images().get(0), text.images().get(0)),
                "a zero negative and the encoding of 'blurry' must differ");
    }

    @Test
    void sdxlFloat16Img2ImgEncodesWithSdxlsVaeScaling() throws IOException {
        // the VAE encoder (float16, scaling_factor 0.13025) and the UNet's added inputs on the img2img path; at 256 px
        // as Img2ImgEngineTest (the larger the picture, the more the init image's evidence outweighs the prompt)
        String init = java.util.Base64.getEncoder().encodeToString(Img2ImgEngineTest.redSquarePng(256));
        for (String model : List.of("sd1", "sdxl-fp16")) {
            for (Object[] c : new Object[][] {{0.8, "blue"}, {0.2, "red"}}) {
                Map<String, Object> params = new HashMap<>();
                params.put("init_image", init);
                params.put("strength", c[0]);
                BufferedImage img = image(engine.generate(new GenerationRequest("img2img",
                        "a blue square on a white background", null, "euler", null, 20, 7.0, "1", 256, 256, 1,
                        model, params), null), 0);
                assertEquals(c[1], EngineToyWorldTest.colourAt(img, 128, 128), model + " at strength " + c[0]);
                assertEquals("white", EngineToyWorldTest.colourAt(img, 8, 8), model + " at strength " + c[0]);
            }
        }
    }

    @Test
    void float16Sd1AndSdxl() throws IOException {
        draw("sd1-fp16", 512);
        draw("sdxl-fp16", 1024);
    }

    @Test
    void externalDataLayouts() throws IOException {
        // diffusers' convert script: unet/model.onnx holds the graph, unet/weights.pb every large tensor
        Path unet = modelsDir.resolve("sd1-weights-pb").resolve("unet");
        assertTrue(Files.size(unet.resolve("weights.pb")) > Files.size(unet.resolve("model.onnx")));
        draw("sd1-weights-pb", 512);
        // Optimum: model.onnx_data beside the UNet's and both text encoders' model.onnx
        for (String part : List.of("unet", "text_encoder", "text_encoder_2")) {
            assertTrue(Files.isRegularFile(modelsDir.resolve("sdxl-onnx-data").resolve(part).resolve("model.onnx_data")),
                    part);
        }
        draw("sdxl-onnx-data", 1024);
    }

    @Test
    void folderWithoutConfigsIsDescribedFromItsGraphsAndRuns() throws IOException {
        Map<String, Object> listed = listing().get("sdxl-no-configs");
        assertEquals("sdxl", listed.get("family"));
        assertEquals("txt2img", listed.get("variant"));
        assertEquals(1024, listed.get("width"));
        assertEquals("float16", listed.get("dtype"));
        // without configs the folder must run exactly as with them: the same VAE scaling factor (SDXL's 0.13025),
        // sample size and text widths, so the same pixels
        assertPixelsEqual(draw("sdxl-fp16", 1024), draw("sdxl-no-configs", 1024));
    }

    @Test
    void sd2FolderWithoutConfigsIsA768VPredictionModel() throws IOException {
        // 1024-wide text states + v_prediction in scheduler_config.json: SD 2.x 768-v, drawn at 768x768
        assertEquals(List.of("sd2", 768, "float32", "v_prediction"), describe(listing().get("sd2-no-configs")));
        assertPixelsEqual(draw("sd2", 768), draw("sd2-no-configs", 768));
    }

    private static void assertPixelsEqual(BufferedImage a, BufferedImage b) {
        int w = a.getWidth();
        int h = a.getHeight();
        assertEquals(w, b.getWidth());
        assertEquals(h, b.getHeight());
        int[] pa = a.getRGB(0, 0, w, h, null, 0, w);
        int[] pb = b.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < pa.length; i++) {
            assertEquals(pa[i], pb[i], "pixel " + (i % w) + "," + (i / w));
        }
    }

    @Test
    void modelsListShowsFamilyResolutionAndDtypeOfEveryFolder() {
        Map<String, Map<String, Object>> m = listing();
        assertTrue(m.keySet().containsAll(List.of("sd1", "sd2", "sdxl", "sd1-fp16", "sdxl-fp16", "sd1-weights-pb",
                "sdxl-onnx-data", "sdxl-no-configs")), m.keySet().toString());
        assertEquals(List.of("sd1", 512, "float32", "epsilon"), describe(m.get("sd1")));
        assertEquals(List.of("sd2", 768, "float32", "v_prediction"), describe(m.get("sd2")));
        assertEquals(List.of("sdxl", 1024, "float32", "epsilon"), describe(m.get("sdxl")));
        assertEquals(List.of("sd1", 512, "float16", "epsilon"), describe(m.get("sd1-fp16")));
        assertEquals(List.of("sdxl", 1024, "float16", "epsilon"), describe(m.get("sdxl-fp16")));
        assertEquals(List.of("sdxl", 1024, "float32", "epsilon"), describe(m.get("sdxl-onnx-data")));
    }

    private static List<Object> describe(Map<String, Object> model) {
        assertEquals(model.get("width"), model.get("height"));
        return List.of(model.get("family"), model.get("width"), model.get("dtype"), model.get("prediction_type"));
    }

    private static Map<String, Map<String, Object>> listing() {
        try (Stream<Map<String, Object>> s = engine.models().stream()) {
            return s.collect(Collectors.toMap(m -> (String) m.get("id"), m -> m));
        }
    }
}
