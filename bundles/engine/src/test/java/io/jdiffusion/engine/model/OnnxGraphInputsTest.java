package io.jdiffusion.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The session-less reader of declared graph inputs agrees with ONNX Runtime on every toy part and layout. */
class OnnxGraphInputsTest {
    @TempDir
    Path tmp;

    @Test
    void agreesWithOnnxRuntimeOnEveryPart() throws Exception {
        Path xl16 = ToyWorld.write(tmp.resolve("xl16"), ToyWorldOptions.sdxl()
                .withPrecision(ToyWorldOptions.Precision.FLOAT16).withWeights(ToyWorldOptions.WeightsLayout.ONNX_DATA));
        Path sd1 = ToyWorld.write(tmp.resolve("sd1"), ToyWorldOptions.defaults()
                .withWeights(ToyWorldOptions.WeightsLayout.WEIGHTS_PB));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (Path part : List.of(xl16.resolve("unet"), xl16.resolve("text_encoder_2"), xl16.resolve("vae_decoder"),
                sd1.resolve("unet"), sd1.resolve("text_encoder"))) {
            Path file = part.resolve("model.onnx");
            OnnxGraphInputs read = OnnxGraphInputs.read(file);
            try (OrtSession s = env.createSession(file.toString())) {
                assertSame(s.getInputInfo(), read.inputs(), part + " inputs");
                assertSame(s.getOutputInfo(), read.outputs(), part + " outputs");
            }
        }
        OnnxGraphInputs unet = OnnxGraphInputs.read(xl16.resolve("unet/model.onnx"));
        assertEquals(OnnxGraphInputs.FLOAT16, unet.inputs().get("sample").elemType());
        assertEquals(2048, unet.inputs().get("encoder_hidden_states").dim(2));
    }

    private static void assertSame(Map<String, NodeInfo> ort, Map<String, OnnxGraphInputs.Value> read, String what) {
        assertEquals(new ArrayList<>(ort.keySet()), new ArrayList<>(read.keySet()), what);
        for (Map.Entry<String, NodeInfo> e : ort.entrySet()) {
            TensorInfo info = (TensorInfo) e.getValue().getInfo();
            OnnxGraphInputs.Value v = read.get(e.getKey());
            assertArrayEquals(info.getShape(), v.dims(), what + " " + e.getKey());
            OnnxJavaType type = switch (v.elemType()) {
                case 1 -> OnnxJavaType.FLOAT;
                case 10 -> OnnxJavaType.FLOAT16;
                case 6 -> OnnxJavaType.INT32;
                case 7 -> OnnxJavaType.INT64;
                default -> OnnxJavaType.UNKNOWN;
            };
            assertEquals(info.type, type, what + " " + e.getKey());
        }
    }

    @Test
    void aTruncatedFileIsAnIoErrorNamingIt() throws Exception {
        Path sd1 = ToyWorld.write(tmp.resolve("cut"), ToyWorldOptions.defaults());
        Path unet = sd1.resolve("unet/model.onnx");
        byte[] all = Files.readAllBytes(unet);
        Files.write(unet, java.util.Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> OnnxGraphInputs.read(unet));
        assertTrue(e.getMessage().contains(unet.toString()), e.getMessage());
    }

    @Test
    void aMissingWeightsFileFailsTheLoadNamingIt() throws Exception {
        Path dir = ToyWorld.write(tmp.resolve("no-weights"), ToyWorldOptions.defaults()
                .withWeights(ToyWorldOptions.WeightsLayout.WEIGHTS_PB));
        Files.delete(dir.resolve("unet/weights.pb"));
        ModelManager manager = new ModelManager(new OnnxRuntime(OnnxRuntime.Device.CPU), dir.toAbsolutePath(), null, 1);
        try {
            RuntimeException e = assertThrows(RuntimeException.class, () -> manager.get(manager.defaultId()));
            assertTrue(e.getMessage().contains("weights.pb"), e.getMessage());
        } finally {
            manager.close();
        }
    }

    @Test
    void anSdxlFolderWithoutItsSecondTokenizerIsRefusedNamingTheFiles() throws Exception {
        Path dir = ToyWorld.write(tmp.resolve("xl-half"), ToyWorldOptions.sdxl());
        Files.delete(dir.resolve("tokenizer_2/merges.txt"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFolder.open(dir));
        assertTrue(e.getMessage().contains("missing tokenizer_2/merges.txt"), e.getMessage());
    }
}
