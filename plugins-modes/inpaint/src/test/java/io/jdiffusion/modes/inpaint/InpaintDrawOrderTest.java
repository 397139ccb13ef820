package io.jdiffusion.modes.inpaint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jdiffusion.api.DepthEstimator;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.RgbImage;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The order in which the mode draws from the image's generator and encodes images, with a context whose VAE encoder
 * gives the latent distribution (it samples it with one draw, as the engine does for Optimum's
 * {@code latent_parameters}), against diffusers' {@code StableDiffusionInpaintPipeline}: {@code prepare_latents}
 * encodes the init image only where {@code return_image_latents or not is_strength_max}, then draws the start noise;
 * {@code prepare_mask_latents} then encodes {@code image * (mask < 0.5)}.
 */
class InpaintDrawOrderTest {
    static final int LN = InpaintModeTest.LN;
    /** The recording VAE's posterior standard deviation: its sample is the block mean + STD * randn. */
    static final float STD = 0.25f;

    /** What the mode asked, in order, and every draw's values. */
    static final class Recording {
        final List<String> events = new ArrayList<>();
        final List<float[]> draws = new ArrayList<>();
    }

    /** {@link InpaintModeTest#context}'s images, plan and "VAE", with a recorded generator and a sampling encoder. */
    static GenerationMode.ModeContext recording(int extraChannels, double strength, int fill, Recording rec) {
        GenerationMode.ModeContext base = InpaintModeTest.context(extraChannels, strength, fill);
        RgbImage init = (RgbImage) base.inputs().get(InpaintMode.INIT_IMAGE);
        // diffusers' masked image: image * (mask < 0.5), i.e. 0 in [-1, 1], grey 0.5 here, where the mask repaints
        float[] maskedImage = init.rgb().clone();
        float[] mask = MaskedContentTest.leftMask();
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] >= 0.5f) for (int c = 0; c < 3; c++) maskedImage[c * mask.length + i] = 0.5f;
        }
        Random rnd = new Random(11);
        NoiseSource noise = new NoiseSource() {
            public float[] randn(int n) {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) out[i] = (float) rnd.nextGaussian();
                rec.events.add("randn " + n);
                rec.draws.add(out);
                return out;
            }

            public long seed() {
                return 11;
            }
        };
        return new GenerationMode.ModeContext() {
            public Sampler sampler() { return base.sampler(); }
            public SamplerPlan plan() { return base.plan(); }
            public int[] latentShape() { return base.latentShape(); }
            public NoiseSource noise() { return noise; }
            public Map<String, Object> inputs() { return base.inputs(); }
            public int unetExtraChannels() { return base.unetExtraChannels(); }
            public DepthEstimator depthEstimator() { return null; }

            @Override
            public float[] encodeImage(RgbImage image) {
                rec.events.add("encode " + (Arrays.equals(image.rgb(), init.rgb()) ? "init"
                        : Arrays.equals(image.rgb(), maskedImage) ? "masked" : "other"));
                float[] mean = base.encodeImage(image);
                float[] eps = noise.randn(mean.length); // retrieve_latents(..., generator): mean + std * randn
                float[] out = new float[mean.length];
                for (int i = 0; i < out.length; i++) out[i] = mean[i] + STD * eps[i];
                return out;
            }
        };
    }

    @Test
    void inpaintingUnetAtStrengthOneDrawsTheNoiseFirstAndNeverEncodesTheInitImage() {
        Recording rec = new Recording();
        GenerationMode.ModeStart start = new InpaintMode().start(recording(5, 1.0, 1, rec));
        assertEquals(List.of("randn " + LN, "encode masked", "randn " + LN), rec.events);
        float[] noise = rec.draws.get(0);
        for (int i = 0; i < LN; i++) {
            assertEquals(noise[i] * InpaintModeTest.INIT_SIGMA, start.latents()[i], 1e-4, "latent " + i);
        }
        // the masked-image latents are the encoder's sample with the second draw: mean + std * draw
        float[] extra = start.unetExtra();
        int plane = LN / 4;
        float[] sample = rec.draws.get(1);
        assertEquals(0.5f + STD * sample[0], extra[plane], 1e-6, "masked (left) block: grey 0.5");
        assertEquals(0f + STD * sample[2], extra[plane + 2], 1e-6, "kept (right, blue) block: red 0");
    }

    @Test
    void inpaintingUnetBelowStrengthOneEncodesTheInitImageThenDrawsTheNoiseThenEncodesTheMaskedImage() {
        Recording rec = new Recording();
        GenerationMode.ModeStart start = new InpaintMode().start(recording(5, 0.6, 1, rec));
        assertEquals(List.of("encode init", "randn " + LN, "randn " + LN, "encode masked", "randn " + LN), rec.events);
        // latents = add_noise(mean + std * draw 0, draw 1) at the start step's sigma
        double sigma = InpaintModeTest.context(5, 0.6, 1).plan().sigmas()[start.startStep()];
        float[] vaeDraw = rec.draws.get(0), noise = rec.draws.get(1);
        float redBlock = 1f; // latent 0: the left block of the red-blue image, red plane 1
        assertEquals(redBlock + STD * vaeDraw[0] + sigma * noise[0], start.latents()[0], 1e-4);
        int plane = LN / 4;
        assertEquals(0.5f + STD * rec.draws.get(2)[0], start.unetExtra()[plane], 1e-6);
    }

    @Test
    void ordinaryUnetEncodesTheInitImageThenDrawsTheNoiseAndNothingElse() {
        for (double strength : new double[] {0.6, 1.0}) {
            Recording rec = new Recording();
            GenerationMode.ModeStart start = new InpaintMode().start(recording(0, strength, 1, rec));
            assertEquals(List.of("encode init", "randn " + LN, "randn " + LN), rec.events, "strength " + strength);
            double sigma = InpaintModeTest.context(0, strength, 1).plan().sigmas()[start.startStep()];
            assertEquals(1f + STD * rec.draws.get(0)[0] + sigma * rec.draws.get(1)[0], start.latents()[0], 1e-4);
        }
    }

    @Test
    void latentNoiseOnAnInpaintingUnetFillsTheMaskedLatentsWithTheStartNoiseNotTheVaeDraw() {
        Recording rec = new Recording();
        GenerationMode.ModeStart start = new InpaintMode().start(recording(5, 0.6, 2, rec));
        // A1111's masked-content options prepare the encoded image (filled, for every option but original): the
        // draws keep diffusers' order
        assertEquals(List.of("encode other", "randn " + LN, "randn " + LN, "encode masked", "randn " + LN), rec.events);
        double sigma = InpaintModeTest.context(5, 0.6, 2).plan().sigmas()[start.startStep()];
        float[] noise = rec.draws.get(1);
        // latent 0 is in the masked (left) half: its start value is the start noise itself, then noised with it
        assertEquals(noise[0] + sigma * noise[0], start.latents()[0], 1e-4);
    }
}
