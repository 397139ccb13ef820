package io.jdiffusion.api.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** shared/reference/torch_randn/nv_philox_reference.json: NVIDIA's torch.randn((3, 4)) for seed 0, as A1111 quotes it. */
class NvPhiloxGeneratorTest {
    @Test
    void matchesTheReference() throws IOException {
        JsonNode root = new ObjectMapper().readTree(ReferenceFiles.torchRandn("nv_philox_reference.json").toFile());
        long seed = new BigInteger(root.get("seed").asText()).longValue();
        double tolerance = root.get("tolerance").asDouble();
        NvPhiloxGenerator gen = new NvPhiloxGenerator(seed);
        assertEquals(seed, gen.seed());
        int n = 1;
        for (JsonNode d : root.get("shape")) {
            n *= d.asInt();
        }
        float[] got = gen.randn(n);
        int i = 0;
        for (JsonNode row : root.get("values")) {
            for (JsonNode v : row) {
                assertEquals(v.asDouble(), got[i], tolerance, "[" + i + "]");
                i++;
            }
        }
        assertEquals(n, i);
    }

    @Test
    void eachCallMovesTheOffset() {
        NvPhiloxGenerator gen = new NvPhiloxGenerator(0);
        float[] first = gen.randn(12);
        float[] second = gen.randn(12);
        assertFalse(Arrays.equals(first, second));
        // element i of a call depends on (offset, i) only, not on how many values the call makes
        NvPhiloxGenerator again = new NvPhiloxGenerator(0);
        float[] firstFive = again.randn(5);
        assertEquals(first[4], firstFive[4]);
        assertEquals(second[0], again.randn(1)[0]);
    }
}
