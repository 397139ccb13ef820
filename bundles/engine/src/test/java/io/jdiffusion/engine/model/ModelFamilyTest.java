package io.jdiffusion.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Family detection from config.json files (synthetic folders with nothing else) and from the toy world's sessions. */
class ModelFamilyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void toyWorldIsSd1Txt2ImgFromConfigsThenFloat32OnceLoaded() throws Exception {
        Path dir = Path.of("target", "toy-world");
        if (!Files.isDirectory(dir)) {
            ToyWorld.write(dir, ToyWorldOptions.defaults());
        }
        ModelFamily listed = ModelFamily.detect(ModelFolder.read(dir));
        assertEquals("sd1", listed.family());
        assertEquals("txt2img", listed.variant());
        assertEquals(512, listed.width());
        assertEquals(512, listed.height());
        assertEquals("float32", listed.dtype()); // the toy text encoder config declares torch_dtype

        ModelManager manager = new ModelManager(new OnnxRuntime(OnnxRuntime.Device.CPU), dir.toAbsolutePath(), null, 1);
        try {
            String id = manager.defaultId();
            assertEquals(null, manager.loadedOrNull(id), "listing must not load");
            ModelFamily loaded = ModelFamily.detect(manager.get(id));
            assertEquals("sd1", loaded.family());
            assertEquals("float32", loaded.dtype());
            assertTrue(manager.unload(id));
            assertFalse(manager.unload(id), "second unload finds nothing loaded");
        } finally {
            manager.close();
        }
    }

    @Test
    void sd2VPredictionAt768() throws IOException {
        Path dir = folder("sd2", Map.of("in_channels", 4, "cross_attention_dim", 1024, "sample_size", 96),
                "v_prediction");
        ModelFamily f = ModelFamily.detect(ModelFolder.read(dir));
        assertEquals("sd2", f.family());
        assertEquals("txt2img", f.variant());
        assertEquals("v_prediction", f.prediction());
        assertEquals(768, f.width());
        assertEquals(768, f.height());
        assertEquals(ModelFamily.UNKNOWN_DTYPE, f.dtype());
    }

    @Test
    void sdxlFromWidthAndSecondTextEncoder() throws IOException {
        Path dir = folder("sdxl", Map.of("in_channels", 4, "cross_attention_dim", 2048, "sample_size", 128,
                "torch_dtype", "float16"), "epsilon");
        Files.createDirectories(dir.resolve("text_encoder_2"));
        ModelFamily f = ModelFamily.detect(ModelFolder.read(dir));
        assertEquals("sdxl", f.family());
        assertEquals(1024, f.width());
        assertEquals("float16", f.dtype());
    }

    @Test
    void sdxlFromTextTimeEmbeddingAlone() throws IOException {
        Path dir = folder("xl-tt", Map.of("in_channels", 4, "cross_attention_dim", 1280,
                "addition_embed_type", "text_time"), "epsilon");
        assertEquals("sdxl", ModelFamily.detect(ModelFolder.read(dir)).family());
    }

    @Test
    void depthAndInpaintFromInputChannels() throws IOException {
        Path depth = folder("depth", Map.of("in_channels", 5, "cross_attention_dim", 1024), "v_prediction");
        Path inpaint = folder("inpaint", Map.of("in_channels", 9, "cross_attention_dim", 768), "epsilon");
        assertEquals("depth", ModelFamily.detect(ModelFolder.read(depth)).variant());
        assertEquals("sd2", ModelFamily.detect(ModelFolder.read(depth)).family());
        assertEquals("inpaint", ModelFamily.detect(ModelFolder.read(inpaint)).variant());
        assertEquals("sd1", ModelFamily.detect(ModelFolder.read(inpaint)).family());
    }

    @Test
    void otherWidthIsCustomAndNoConfigIsUnknown() throws IOException {
        Path custom = folder("custom", Map.of("in_channels", 4, "cross_attention_dim", 64), "epsilon");
        assertEquals("custom", ModelFamily.detect(ModelFolder.read(custom)).family());
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        ModelFamily f = ModelFamily.detect(ModelFolder.read(bare));
        assertEquals("unknown", f.family());
        assertEquals("unknown", f.variant());
        assertEquals(512, f.width()); // sample_size 64 x VAE factor 8, the SD 1.x defaults
    }

    /** A folder holding only unet/config.json and scheduler/scheduler_config.json. */
    private Path folder(String name, Map<String, Object> unet, String prediction) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve("unet"));
        Files.createDirectories(dir.resolve("scheduler"));
        JSON.writeValue(dir.resolve("unet/config.json").toFile(), unet);
        JSON.writeValue(dir.resolve("scheduler/scheduler_config.json").toFile(), Map.of("prediction_type", prediction));
        return dir;
    }
}
