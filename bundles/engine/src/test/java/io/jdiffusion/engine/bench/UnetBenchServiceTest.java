package io.jdiffusion.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdiffusion.api.cuda.CudaOptions;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.UnetBench;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's UNet step on real ONNX Runtime sessions of toy folders shaped like real exports: a depth UNet
 * (5 input channels), a float16 SDXL UNet (text_embeds + time_ids) at its default size, and the refusals.
 */
class UnetBenchServiceTest {
    @TempDir
    Path tmp;

    private final UnetBench bench = new UnetBenchService(CudaOptions.none());

    @Test
    void depthUnetStepsWithItsExtraChannel() throws Exception {
        Path dir = ToyWorld.write(tmp.resolve("depth"),
                ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.DEPTH));
        try (UnetBench.Loaded l = bench.load(dir, "CPU", 128)) {
            l.step();
            l.step();
            Map<String, Object> d = l.describe();
            assertEquals(5, d.get("in_channels"));
            assertEquals(128, d.get("width"));
            assertEquals("float32", d.get("dtype"));
            assertEquals(List.of("sample", "timestep", "encoder_hidden_states"), d.get("inputs"));
            assertEquals("CPU", l.provider());
        }
    }

    @Test
    void float16SdxlUnetStepsAtItsDefaultSize() throws Exception {
        Path dir = ToyWorld.write(tmp.resolve("xl"), ToyWorldOptions.sdxl().withPrecision(ToyWorldOptions.Precision.FLOAT16));
        try (UnetBench.Loaded l = bench.load(dir, "CPU", null)) {
            l.step();
            Map<String, Object> d = l.describe();
            assertEquals("float16", d.get("dtype"));
            assertEquals("sdxl", d.get("family"));
            assertEquals(ToyWorldOptions.sdxl().sampleSize() * 8, d.get("width"));
            assertEquals(List.of(2, 77, 2048), d.get("encoder_hidden_states"));
            assertEquals(List.of("sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"), d.get("inputs"));
        }
    }

    @Test
    void badFoldersSizesAndProvidersAreRefusedNamingTheField() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertEquals("model", assertThrows(InvalidRequestException.class, () -> bench.load(empty, "CPU", null)).field());
        Path toy = ToyWorld.write(tmp.resolve("toy"), ToyWorldOptions.defaults());
        assertEquals("size", assertThrows(InvalidRequestException.class, () -> bench.load(toy, "CPU", 100)).field());
        assertEquals("provider", assertThrows(InvalidRequestException.class, () -> bench.load(toy, "TPU", null)).field());
    }
}
