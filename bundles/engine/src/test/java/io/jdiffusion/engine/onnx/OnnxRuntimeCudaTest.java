package io.jdiffusion.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.jdiffusion.api.cuda.CudaOptions;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --device cuda} with CUDA options on whatever machine runs the test: either the CUDA provider
 * loads and sessions run on it, or (a machine without the CUDA 12 libraries, like the build machine)
 * sessions run on the CPU and the reason is one line naming what is missing.
 */
class OnnxRuntimeCudaTest {
    private static Path unet;

    @BeforeAll
    static void toyWorld() throws IOException {
        Path model = Path.of("target", "toy-world");
        if (!Files.isDirectory(model)) {
            ToyWorld.write(model, ToyWorldOptions.defaults());
        }
        unet = model.resolve("unet/model.onnx");
    }

    @Test
    void cudaWithOptionsRunsOnCudaOrFallsBackToTheCpuWithOneLine() throws OrtException {
        CudaOptions options = CudaOptions.parse(List.of("cudnn_conv_algo_search=HEURISTIC",
                "arena_extend_strategy=kSameAsRequested", "gpu_mem_limit=2G", "device_id=0"));
        OnnxRuntime rt = new OnnxRuntime(OnnxRuntime.Device.CUDA, options);
        String provider = rt.provider(); // known before any session: the probe loads the provider library
        try (OrtSession s = rt.open(unet)) {
            assertTrue(s.getInputNames().contains("sample"), s.getInputNames().toString());
        }
        assertEquals(provider, rt.provider(), "the probe and the first session agree");
        if (provider.equals("CUDA")) {
            assertNull(rt.fallbackReason());
        } else {
            assertEquals("CPU", provider);
            String reason = rt.fallbackReason();
            assertNotNull(reason, "a CPU fallback says why");
            assertFalse(reason.contains("\n"), reason);
            assertTrue(reason.length() < 400, reason);
            if (reason.startsWith("cannot load")) { // a missing library: named, without ORT's temp path
                assertTrue(reason.matches("cannot load libonnxruntime_providers_cuda\\.so: \\S+\\.so[.0-9]*: .*"), reason);
                assertFalse(reason.contains("/tmp/"), reason);
            }
        }
    }

    @Test
    void cpuNeverTriesCuda() throws OrtException {
        OnnxRuntime rt = new OnnxRuntime(OnnxRuntime.Device.CPU, CudaOptions.none());
        assertEquals("CPU", rt.provider());
        try (OrtSession s = rt.open(unet)) {
            assertFalse(s.getInputNames().isEmpty());
        }
        assertNull(rt.fallbackReason());
    }

    @Test
    void theReasonKeepsTheMissingLibrary() {
        // ONNX Runtime 1.29's message when libonnxruntime_providers_cuda.so cannot find its CUDA libraries
        String ort = "Error code - ORT_FAIL - message: /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988"
                + " onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to"
                + " load library /tmp/onnxruntime-java1578/libonnxruntime_providers_cuda.so with error: libcublasLt.so.12:"
                + " cannot open shared object file: No such file or directory\n";
        assertEquals("cannot load libonnxruntime_providers_cuda.so: libcublasLt.so.12: cannot open shared object file:"
                + " No such file or directory (the CUDA provider needs CUDA 12 and cuDNN 9 libraries on the library path)",
                OnnxRuntime.reason(new OrtException(ort)));
        assertEquals("something else went wrong", OnnxRuntime.reason(new IllegalStateException("something\n else  went wrong")));
    }
}
