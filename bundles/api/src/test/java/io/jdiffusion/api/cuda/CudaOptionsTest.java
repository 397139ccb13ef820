package io.jdiffusion.api.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CudaOptionsTest {
    @Test
    void valuesComeOutInOnnxRuntimesSpelling() {
        CudaOptions o = CudaOptions.parse(List.of("cudnn_conv_algo_search=heuristic", "arena_extend_strategy=ksameasrequested",
                "gpu_mem_limit=8G", "device_id=1"));
        assertEquals(Map.of("cudnn_conv_algo_search", "HEURISTIC", "arena_extend_strategy", "kSameAsRequested",
                "gpu_mem_limit", Long.toString(8L << 30), "device_id", "1"), o.values());
        assertEquals(1, o.deviceId());
        assertEquals("HEURISTIC", o.toProperties().get("sd.cuda.cudnn_conv_algo_search"));
    }

    @Test
    void memoryLimitsTakeSuffixes() {
        assertEquals(8589934592L, CudaOptions.parseBytes("8589934592"));
        assertEquals(512L << 20, CudaOptions.parseBytes("512M"));
        assertEquals(512L << 20, CudaOptions.parseBytes("512MiB"));
        assertEquals(3L << 29, CudaOptions.parseBytes("1.5g"));
        assertEquals(2048, CudaOptions.parseBytes("2K"));
        assertEquals(1L << 40, CudaOptions.parseBytes("1TB"));
        for (String bad : List.of("", "-1G", "0", "lots", "8X", "1e9", "NaN")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaOptions.parseBytes(bad), bad);
            assertTrue(e.getMessage().contains("gpu_mem_limit") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void badValuesNameTheOptionAndWhatItAllows() {
        assertEquals("CUDA option cudnn_conv_algo_search must be one of EXHAUSTIVE, HEURISTIC, DEFAULT, got 'FAST'",
                message("cudnn_conv_algo_search=FAST"));
        assertEquals("CUDA option arena_extend_strategy must be one of kNextPowerOfTwo, kSameAsRequested, got 'big'",
                message("arena_extend_strategy=big"));
        assertTrue(message("device_id=-1").startsWith("CUDA option device_id must be a GPU index 0 or more"));
        assertEquals("unknown CUDA option 'gpu_mem'; known: device_id, gpu_mem_limit, arena_extend_strategy,"
                + " cudnn_conv_algo_search", message("gpu_mem=8G"));
        assertTrue(message("HEURISTIC").contains("must be KEY=VALUE"));
    }

    @Test
    void propertiesRoundTripAndAbsentOnesKeepTheDefaults() {
        CudaOptions o = CudaOptions.parse(List.of("gpu_mem_limit=1G"));
        CudaOptions back = CudaOptions.fromProperties(o.toProperties()::get);
        assertEquals(o.values(), back.values());
        assertTrue(CudaOptions.fromProperties(k -> null).isEmpty());
        assertEquals(0, CudaOptions.none().deviceId());
    }

    private static String message(String item) {
        return assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse(List.of(item))).getMessage();
    }
}
