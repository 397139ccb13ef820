package io.jdiffusion.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfTest {
    @Test
    void knownValues() {
        assertEquals((short) 0x3c00, Half.fromFloat(1f));
        assertEquals((short) 0xc000, Half.fromFloat(-2f));
        assertEquals((short) 0x7bff, Half.fromFloat(65504f));
        assertEquals((short) 0x7c00, Half.fromFloat(1e6f));
        assertEquals((short) 0x0001, Half.fromFloat(5.9604645e-8f)); // smallest subnormal
        assertEquals((short) 0x3555, Half.fromFloat(1f / 3f));
        assertEquals(1f / 3f, Half.toFloat((short) 0x3555), 1e-3);
        assertEquals(5.9604645e-8f, Half.toFloat((short) 0x0001), 0f);
    }

    @Test
    void roundTripsEveryHalf() {
        for (int h = 0; h < 0x10000; h++) {
            int exp = (h >>> 10) & 0x1f;
            if (exp == 0x1f && (h & 0x3ff) != 0) {
                continue; // NaN payloads
            }
            assertEquals((short) h, Half.fromFloat(Half.toFloat((short) h)), "half 0x" + Integer.toHexString(h));
        }
    }
}
