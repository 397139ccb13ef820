package io.jdiffusion.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** diffusers' get_timesteps: t_start = max(steps - min(int(steps * strength), steps), 0). */
class DenoisingStrengthTest {
    @ParameterizedTest
    @CsvSource({
        "50, 0.8, 10",  // diffusers' documented example: 40 of 50 steps run
        "20, 0.75, 5",
        "20, 1.0, 0",   // everything: like txt2img
        "20, 0.0, 20",  // nothing
        "20, 0.02, 20", // int(0.4) = 0 steps to run
        "10, 0.3, 7",   // 0.3 * 10 = 3.0000000000000004 -> 3
        "100, 0.57, 44", // 0.57 * 100 = 56.99999999999999 -> 56, as Python's int() gives
        "1, 0.5, 1",
        "1, 1.0, 0",
    })
    void startStepIsDiffusersGetTimesteps(int steps, double strength, int expected) {
        assertEquals(expected, DenoisingStrength.startStep(steps, strength));
    }

    @Test
    void outOfRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DenoisingStrength.startStep(20, 1.5));
        assertThrows(IllegalArgumentException.class, () -> DenoisingStrength.startStep(20, -0.1));
        assertThrows(IllegalArgumentException.class, () -> DenoisingStrength.startStep(20, Double.NaN));
    }
}
