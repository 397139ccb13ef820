package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.conditioning.a1111.A1111PromptParser;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.engine.model.ModelFolder;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A1111 prompt syntax through the whole pipeline on the toy world: the real tokenizer, the real
 * ONNX text encoder (colour words put their colour into the foreground features, which weights
 * scale), the UNet over 77 x chunks tokens, and per-step conditioning for prompt editing.
 */
class PromptSyntaxToyWorldTest {
    private static Path modelDir;
    private static Engine engine;
    private static ClipConditioner conditioner;
    private static OnnxModel model;

    @BeforeAll
    static void start() throws Exception {
        modelDir = Path.of("target", "toy-world");
        if (!Files.isDirectory(modelDir)) {
            ToyWorld.write(modelDir, ToyWorldOptions.defaults());
        }
        conditioner = new ClipConditioner();
        conditioner.addParser(new A1111PromptParser(), Map.of(Plugin.NAME, PromptParser.DEFAULT));
        engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", modelDir.toAbsolutePath().toString());
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        engine.register(Sampler.class, new EulerSampler(), "euler", "Euler");
        engine.register(GenerationMode.class, new Txt2ImgMode(), "txt2img", "txt2img");
        engine.register(TextConditioner.class, conditioner, "clip", "CLIP");
        model = new OnnxModel(ModelFolder.open(modelDir), new OnnxRuntime(OnnxRuntime.Device.CPU));
    }

    @AfterAll
    static void stop() {
        model.close();
        engine.deactivate();
    }

    private static BufferedImage generate(String prompt, long seed) throws IOException {
        GenerationResult r = engine.generate(new GenerationRequest(null, prompt, null, "euler", null, 20, 7.5,
                Long.toString(seed), 512, 512, 1, null, null), null);
        return EngineToyWorldTest.image(r, 0);
    }

    private static int tokens(String prompt, String negative) {
        List<ScheduledConditioning> s = conditioner.schedule(model.textModel(), prompt, negative, 20);
        return s.get(0).conditioning().tokens();
    }

    @Test
    void weightsDecideBetweenTwoColours() throws IOException {
        for (long seed : new long[] {1, 2}) {
            EngineToyWorldTest.assertScene(generate("a (red:1.5) and blue circle on a white background", seed),
                    "red", "white");
            EngineToyWorldTest.assertScene(generate("a red and (blue:1.5) circle on a white background", seed),
                    "blue", "white");
            EngineToyWorldTest.assertScene(generate("a red and ((blue)) circle on a white background", seed),
                    "blue", "white");
            EngineToyWorldTest.assertScene(generate("a [red] and blue circle on a white background", seed),
                    "blue", "white");
        }
    }

    @Test
    void aPromptOf120TokensWorksEndToEnd() throws IOException {
        String prompt = "a red circle on a white background" + ", circle".repeat(60);
        int count = conditioner.countTokens(model.textModel(), prompt);
        assertTrue(count >= 120 && count <= 150, "tokens: " + count);
        assertEquals(2 * 77, tokens(prompt, ""));
        assertEquals(2 * 77, tokens("", prompt), "the prompt is padded to the negative's chunks");
        EngineToyWorldTest.assertScene(generate(prompt, 1), "red", "white");
    }

    @Test
    void breakChangesTheChunkCount() throws IOException {
        assertEquals(77, tokens("a red circle on a white background", ""));
        assertEquals(2 * 77, tokens("a red circle BREAK on a white background", ""));
        assertEquals(3 * 77, tokens("a red circle BREAK on a white BREAK background", "blurry"));
        EngineToyWorldTest.assertScene(generate("a red circle BREAK on a white background", 1), "red", "white");
    }

    @Test
    void promptEditingSwitchesTheTextDuringSampling() throws IOException {
        List<ScheduledConditioning> s = conditioner.schedule(model.textModel(),
                "a [red:blue:2] circle on a white background", "", 20);
        assertEquals(List.of(2, 20), s.stream().map(ScheduledConditioning::untilStep).toList());
        // the toy world settles its colours in the early, noisy steps: blue for the first half decides
        // it (how soon it settles varies between builds, so the switch itself is proven call by call in
        // GuidedDenoiserScheduleTest)
        EngineToyWorldTest.assertScene(generate("a [blue:red:0.5] circle on a white background", 1), "blue", "white");
        EngineToyWorldTest.assertScene(generate("a red circle on a white background", 1), "red", "white");
        // edited before the first call: the same picture as the second text alone
        assertTrue(Arrays.equals(pixels(generate("a [blue:red:0] circle on a white background", 1)),
                pixels(generate("a red circle on a white background", 1))));
        // alternation: the text flips every call, so the circle takes one of the two colours (which one
        // depends on when the toy world settles; the per-call switching is proven in GuidedDenoiserScheduleTest)
        for (String prompt : List.of("a [red|blue] circle on a white background", "a [blue|red] circle on a white background")) {
            BufferedImage img = generate(prompt, 1);
            String centre = EngineToyWorldTest.colourAt(img, img.getWidth() / 2, img.getHeight() / 2);
            assertTrue(centre.equals("red") || centre.equals("blue"), prompt + " drew " + centre);
            assertEquals("white", EngineToyWorldTest.colourAt(img, 4, 4), prompt);
        }
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
