package io.jdiffusion.schedules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.NoiseSchedule;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Karras and exponential sigmas against their closed forms. The reference numbers were computed
 * independently of the code under test, at 40 significant digits with mpmath, from the formulas
 * themselves: Karras et al. 2022 eq. 5,
 * {@code sigma_i = (sigma_max^(1/7) + i / (n - 1) * (sigma_min^(1/7) - sigma_max^(1/7)))^7}, and
 * {@code sigma_i = exp(log sigma_max + i / (n - 1) * (log sigma_min - log sigma_max))}.
 */
class SchedulesTest {
    private static final double REL = 1e-13;
    // A1111's rounded SD 1.5 range (k-diffusion's model.sigmas[0], [-1])
    private static final double SD_MIN = 0.0292;
    private static final double SD_MAX = 14.6146;

    private final NoiseSchedule karras = new KarrasSchedule();
    private final NoiseSchedule exponential = new ExponentialSchedule();

    private static void assertRel(double expected, double actual) {
        assertEquals(expected, actual, Math.abs(expected) * REL, "expected " + expected + " got " + actual);
    }

    @Test
    void karrasClosedForm() {
        double[] three = karras.sigmas(3, 0.1, 10);
        assertEquals(3, three.length);
        assertRel(10.0, three[0]);
        assertRel(1.450732113566191454, three[1]); // ((10^(1/7) + 0.1^(1/7)) / 2)^7
        assertRel(0.1, three[2]);

        double[] five = karras.sigmas(5, SD_MIN, SD_MAX);
        double[] expected = {14.6146, 4.7971740156502058358, 1.2745157121364565522, 0.2481037891710360858, 0.0292};
        assertEquals(5, five.length);
        for (int i = 0; i < 5; i++) {
            assertRel(expected[i], five[i]);
        }
    }

    @Test
    void exponentialClosedForm() {
        double[] three = exponential.sigmas(3, 0.1, 10);
        assertRel(10.0, three[0]);
        assertRel(1.0, three[1]); // the geometric mean
        assertRel(0.1, three[2]);

        double[] five = exponential.sigmas(5, SD_MIN, SD_MAX);
        double[] expected = {14.6146, 3.0898394429785373103, 0.65325823377895513518, 0.13811278154589997956, 0.0292};
        for (int i = 0; i < 5; i++) {
            assertRel(expected[i], five[i]);
        }
    }

    @Test
    void karrasIsEvenlySpacedInSigmaToTheOneSeventh() {
        double[] s = karras.sigmas(20, SD_MIN, SD_MAX);
        double step = Math.pow(SD_MAX, 1 / 7.0) - Math.pow(SD_MIN, 1 / 7.0);
        for (int i = 0; i + 1 < s.length; i++) {
            assertEquals(step / 19, Math.pow(s[i], 1 / 7.0) - Math.pow(s[i + 1], 1 / 7.0), 1e-14);
        }
    }

    @Test
    void exponentialHasAConstantRatio() {
        double[] s = exponential.sigmas(20, SD_MIN, SD_MAX);
        double ratio = Math.pow(SD_MAX / SD_MIN, 1 / 19.0);
        for (int i = 0; i + 1 < s.length; i++) {
            assertRel(ratio, s[i] / s[i + 1]);
        }
    }

    @Test
    void endpointsAndMonotone() {
        for (NoiseSchedule schedule : new NoiseSchedule[] {karras, exponential}) {
            for (int n : new int[] {2, 3, 7, 20, 50, 150}) {
                for (double[] range : new double[][] {{SD_MIN, SD_MAX}, {0.002, 80}, {0.5, 0.6}}) {
                    double[] s = schedule.sigmas(n, range[0], range[1]);
                    String what = schedule + " n=" + n + " " + range[0] + ".." + range[1];
                    assertEquals(n, s.length, what);
                    assertRel(range[1], s[0]);
                    assertRel(range[0], s[n - 1]);
                    for (int i = 0; i + 1 < n; i++) {
                        assertTrue(s[i] > s[i + 1], what + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void oneStepIsSigmaMaxAsNumpyLinspaceGivesIt() {
        // np.linspace(0, 1, 1) == [0.]: the single sigma is sigma_max
        assertRel(SD_MAX, karras.sigmas(1, SD_MIN, SD_MAX)[0]);
        assertRel(SD_MAX, exponential.sigmas(1, SD_MIN, SD_MAX)[0]);
        assertEquals(1, karras.sigmas(1, SD_MIN, SD_MAX).length);
    }

    @Test
    void equalEndsGiveAConstantSchedule() {
        for (double v : karras.sigmas(4, 2, 2)) {
            assertRel(2, v);
        }
        for (double v : exponential.sigmas(4, 2, 2)) {
            assertRel(2, v);
        }
    }

    @Test
    void refusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> karras.sigmas(0, SD_MIN, SD_MAX));
        assertThrows(IllegalArgumentException.class, () -> karras.sigmas(5, SD_MAX, SD_MIN));
        assertThrows(IllegalArgumentException.class, () -> karras.sigmas(5, -1, SD_MAX));
        assertThrows(IllegalArgumentException.class, () -> karras.sigmas(5, SD_MIN, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> exponential.sigmas(5, 0, SD_MAX));
        assertThrows(IllegalArgumentException.class, () -> exponential.sigmas(5, SD_MIN, Double.POSITIVE_INFINITY));
        // Karras may end at zero (k-diffusion allows sigma_min = 0)
        double[] s = karras.sigmas(3, 0, 1);
        assertEquals(0.0, s[2]);
        assertRel(Math.pow(0.5, 7), s[1]);
    }

    @Test
    void areDeclarativeServicesComponents() throws IOException {
        assertComponent(KarrasSchedule.class, "karras", "Karras");
        assertComponent(ExponentialSchedule.class, "exponential", "Exponential");
    }

    private void assertComponent(Class<?> type, String name, String label) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/OSGI-INF/" + type.getName() + ".xml")) {
            assertNotNull(in, "bnd wrote the component description of " + type.getName());
            String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(xml.contains("<property name=\"name\" type=\"String\" value=\"" + name + "\"/>"), xml);
            assertTrue(xml.contains("<property name=\"label\" type=\"String\" value=\"" + label + "\"/>"), xml);
            assertTrue(xml.contains("<provide interface=\"io.jdiffusion.api.NoiseSchedule\"/>"), xml);
        }
    }
}
