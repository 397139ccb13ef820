package io.jdiffusion.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerNamesTest {
    private static SamplerNames.Split split(String sampler, String schedule) {
        return new SamplerNames.Split(sampler, schedule);
    }

    @Test
    void splitsTheA1111ScheduleSuffixes() {
        assertEquals(split("DPM++ 2M", "karras"), SamplerNames.split("DPM++ 2M Karras"));
        assertEquals(split("DPM++ 2M SDE", "exponential"), SamplerNames.split("DPM++ 2M SDE Exponential"));
        assertEquals(split("DPM++ 2M SDE Heun", "karras"), SamplerNames.split("DPM++ 2M SDE Heun Karras"));
        assertEquals(split("DPM2 a", "karras"), SamplerNames.split("DPM2 a Karras"));
        assertEquals(split("LMS", "karras"), SamplerNames.split("LMS Karras"));
        assertEquals(split("DPM++ 2M", "sgm_uniform"), SamplerNames.split("DPM++ 2M SGM Uniform"));
        assertEquals(split("Euler", "polyexponential"), SamplerNames.split("Euler Polyexponential"));
        assertEquals(split("Euler", "align_your_steps"), SamplerNames.split("Euler Align Your Steps"));
    }

    @Test
    void leavesNamesWithoutASuffixAlone() {
        assertEquals(split("Euler a", null), SamplerNames.split("Euler a"));
        assertEquals(split("DPM++ 2M", null), SamplerNames.split("DPM++ 2M"));
        assertEquals(split("DDIM", null), SamplerNames.split("DDIM"));
        assertEquals(split("PLMS", null), SamplerNames.split("PLMS"));
        assertEquals(split("dpmpp_2m", null), SamplerNames.split("dpmpp_2m"));
        // a schedule word on its own or glued to the name is not a suffix
        assertEquals(split("Karras", null), SamplerNames.split("Karras"));
        assertEquals(split("EulerKarras", null), SamplerNames.split("EulerKarras"));
    }

    @Test
    void ignoresCaseAndSpacing() {
        assertEquals(split("dpm++ 2m", "karras"), SamplerNames.split("dpm++ 2m karras"));
        assertEquals(split("DPM++ 2M SDE", "exponential"), SamplerNames.split("  DPM++ 2M SDE   EXPONENTIAL "));
        assertEquals(split("dpmpp_2m", "karras"), SamplerNames.split("dpmpp_2m_karras"));
        assertEquals(split("Euler", "sgm_uniform"), SamplerNames.split("Euler sgm_uniform"));
        assertEquals(split("EULER A", null), SamplerNames.split(" EULER A "));
    }

    @Test
    void keepsAKnownSamplerWhole() {
        Set<String> known = Set.of("Restart Beta");
        assertEquals(split("Restart Beta", null), SamplerNames.split("Restart Beta", known::contains));
        assertEquals(split("Restart", "beta"), SamplerNames.split("Restart Beta"));
        assertEquals(split("DPM++ 2M", "karras"), SamplerNames.split("DPM++ 2M Karras", known::contains));
    }

    @Test
    void refusesEmptyNames() {
        assertThrows(IllegalArgumentException.class, () -> SamplerNames.split(null));
        assertThrows(IllegalArgumentException.class, () -> SamplerNames.split("   "));
    }

    @Test
    void scheduleIdsOfScheduleTypeLabels() {
        assertEquals("karras", SamplerNames.scheduleId("Karras"));
        assertEquals("exponential", SamplerNames.scheduleId("EXPONENTIAL"));
        assertEquals("sgm_uniform", SamplerNames.scheduleId("SGM Uniform"));
        assertEquals("kl_optimal", SamplerNames.scheduleId("kl_optimal"));
        assertEquals("ddim", SamplerNames.scheduleId("DDIM"));
        assertNull(SamplerNames.scheduleId("Automatic"));
        assertNull(SamplerNames.scheduleId(""));
        assertNull(SamplerNames.scheduleId(null));
    }
}
