package io.jdiffusion.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.engine.model.ModelFolder;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The denoiser follows a conditioning schedule by model call, on the toy world's real UNet. */
class GuidedDenoiserScheduleTest {
    private static OnnxModel model;
    private static ClipConditioner conditioner;
    private static final int[] SHAPE = {1, 4, 8, 8};

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "toy-world");
        if (!Files.isDirectory(dir)) {
            ToyWorld.write(dir, ToyWorldOptions.defaults());
        }
        model = new OnnxModel(ModelFolder.open(dir), new OnnxRuntime(OnnxRuntime.Device.CPU));
        conditioner = new ClipConditioner();
    }

    @AfterAll
    static void stop() {
        model.close();
    }

    @Test
    void eachCallUsesTheEntryItsCountFallsIn() {
        Conditioning red = conditioner.condition(model.textModel(), "a red circle", "");
        Conditioning blue = conditioner.condition(model.textModel(), "a blue square", "");
        float[] x = new float[4 * 8 * 8];
        Random rnd = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] withRed = new GuidedDenoiser(model, red, 7.5, SHAPE).predict(x, 500);
        float[] withBlue = new GuidedDenoiser(model, blue, 7.5, SHAPE).predict(x, 500);
        assertFalse(Arrays.equals(withRed, withBlue));

        GuidedDenoiser scheduled = new GuidedDenoiser(model, List.of(new ScheduledConditioning(1, red),
                new ScheduledConditioning(3, blue)), 7.5, SHAPE, null);
        assertArrayEquals(withRed, scheduled.predict(x, 500), "call 0");
        assertArrayEquals(withRed, scheduled.predict(x, 500), "call 1");
        assertArrayEquals(withBlue, scheduled.predict(x, 500), "call 2");
        assertArrayEquals(withBlue, scheduled.predict(x, 500), "call 3");
        assertArrayEquals(withRed, scheduled.predict(x, 500), "call 4: past the end, A1111 takes the first entry");
    }
}
