package io.jdiffusion.samplers.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jdiffusion.api.PredictionType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fixtures are what their documentation says, so a failing sampler test points at the sampler. */
class TestkitTest {
    @Test
    void deterministicSampleAndNoiseAreDiffusersArange() {
        float[] sample = DiffusersFixtures.dummySampleDeter();
        float[] noise = DiffusersFixtures.dummyNoiseDeter();
        assertEquals((1 * 256 + 2 * 32 + 3 * 4 + 3) / 768f, sample[DiffusersFixtures.index(3, 1, 2, 3)]);
        assertEquals((767 - (1 * 256 + 2 * 32 + 3 * 4 + 3)) / 768f, noise[DiffusersFixtures.index(3, 1, 2, 3)]);
        // sum of k / 768 over k = 0..767
        assertEquals(383.5, DiffusersFixtures.absSum(sample), 1e-9);
        assertEquals(383.5 / 768, DiffusersFixtures.absMean(noise), 1e-9);
    }

    @Test
    void bothDummyModelsAgreeOnFloat32Timesteps() {
        float[] sample = DiffusersFixtures.dummySampleDeter();
        for (double t : new double[] {0, 1, 999, 500.5, (double) 0.1f}) {
            assertArrayEquals(DiffusersFixtures.dummyModel(sample, t), DiffusersFixtures.dummyModelFloat64(sample, t));
        }
        assertArrayEquals(DiffusersFixtures.dummyModel(sample, 7),
                DiffusersFixtures.dummyDenoiser().predict(sample, 7));
        assertArrayEquals(new int[] {4, 3, 8, 8}, DiffusersFixtures.dummyDenoiserFloat64().latentShape());
    }

    @Test
    void testConfigHasDiffusersTestBetasAndTakesOverrides() {
        assertEquals(1100, DiffusersFixtures.testConfig().getInt("num_train_timesteps", 0));
        assertEquals("scaled_linear",
                DiffusersFixtures.testConfig("beta_schedule", "scaled_linear").getString("beta_schedule", null));
    }

    @Test
    void gaussianWorldAlphaFormIsTheSigmaFormRescaled() {
        GaussianWorld w = new GaussianWorld(0.3, 0.7, new float[] {0.9f, 0.5f});
        double aFrom = 0.2;
        double aTo = 0.8;
        double viaSigma = Math.sqrt(aTo) * w.flow(1.5 / Math.sqrt(aFrom), Math.sqrt((1 - aFrom) / aFrom),
                Math.sqrt((1 - aTo) / aTo));
        assertEquals(viaSigma, w.flowAlphas(1.5, aFrom, aTo), 1e-12);
        assertEquals(w.x0(1.5, 0.9f), w.model(PredictionType.SAMPLE, 1).predict(new float[] {1.5f}, 0)[0], 1e-6);
        assertThrows(IllegalStateException.class, () -> new GaussianWorld(0, 1).model(PredictionType.EPSILON, 1));
    }

    @Test
    void countingNoiseRecordsDraws() {
        CountingNoise noise = new CountingNoise(0.5f);
        assertArrayEquals(new float[] {0.5f, 0.5f}, noise.randn(2));
        noise.randn(3);
        assertEquals(List.of(2, 3), noise.draws);
    }

    @Test
    void seededNoiseRepeats() {
        assertArrayEquals(new JavaNoise(4).randn(5), new JavaNoise(4).randn(5));
        assertArrayEquals(new SplittableNoise(4).randn(5), new SplittableNoise(4).randn(5));
        assertArrayEquals(Gaussians.gaussian(5, 4), new JavaNoise(4).randn(5));
    }
}
