package io.jdiffusion.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.noise.TorchCpuGenerator;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.engine.Engine;
import io.jdiffusion.modes.inpaint.InpaintMode;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inpainting on a 9-channel toy UNet through the engine, once with the toy VAE encoder (latents alone, no draw) and
 * once with it rewritten to give Optimum's {@code latent_parameters} (a distribution, sampled with one draw of the
 * image's generator): the start latents the sampler receives follow diffusers' {@code StableDiffusionInpaintPipeline}.
 * At strength 1 the init image is not encoded, so the start is the seed's FIRST draw times init_noise_sigma with
 * either encoder; below 1 the distribution's sample takes the first draw and the start noise the second.
 */
class InpaintDrawOrderEngineTest {
    private static final int SIDE = 64;
    private static final long SEED = 5;

    @TempDir
    Path tmp;

    /** Euler, remembering the start latents, plan and start step it was given. */
    static final class RecordingSampler implements Sampler {
        final EulerSampler euler = new EulerSampler();
        float[] start;
        SamplerPlan plan;
        int startStep;

        public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
            return euler.plan(config, steps, settings);
        }

        public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                              Progress progress) {
            this.start = latents.clone();
            this.plan = plan;
            this.startStep = startStep;
            return euler.sample(model, latents, plan, startStep, noise, progress);
        }

        public float[] addNoise(float[] original, float[] noise, SamplerPlan plan, int startStep) {
            return euler.addNoise(original, noise, plan, startStep);
        }
    }

    @Test
    void startLatentsFollowDiffusersDrawOrderWithADistributionEncoder() throws Exception {
        ToyWorldOptions nine = ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.INPAINT);
        Path plain = ToyWorld.write(tmp.resolve("plain"), nine);
        Path optimum = ToyWorld.write(tmp.resolve("optimum"), nine);
        Path enc = optimum.resolve("vae_encoder/model.onnx");
        Files.write(enc, LatentDistributionTest.withLogVariance(ModelProto.parseFrom(Files.readAllBytes(enc))).toByteArray());
        double sf = ModelFolder.open(optimum).vaeScalingFactor();

        RecordingSampler p1 = run(plain, 1.0), d1 = run(optimum, 1.0);
        int n = p1.start.length;
        TorchCpuGenerator g = new TorchCpuGenerator(SEED);
        float[] first = g.randn(n), second = g.randn(n);
        for (int i = 0; i < n; i++) {
            double expected = first[i] * p1.plan.initNoiseSigma();
            assertEquals(expected, p1.start[i], 1e-3, "plain encoder, strength 1, latent " + i);
            assertEquals(expected, d1.start[i], 1e-3, "distribution encoder, strength 1: the init image is not "
                    + "encoded, so nothing is drawn before the noise; latent " + i);
        }

        // below 1: plain = mean * sf + sigma * first; distribution = (mean + 0.2 * first) * sf + sigma * second
        RecordingSampler p6 = run(plain, 0.6), d6 = run(optimum, 0.6);
        assertEquals(p6.startStep, d6.startStep);
        double sigma = p6.plan.sigmas()[p6.startStep];
        for (int i = 0; i < n; i++) {
            double mean = p6.start[i] - sigma * first[i];
            double expected = (mean / sf + 0.2 * first[i]) * sf + sigma * second[i];
            assertEquals(expected, d6.start[i], 2e-3, "distribution encoder, strength 0.6, latent " + i);
        }
    }

    private RecordingSampler run(Path model, double strength) throws Exception {
        Engine engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", model.toAbsolutePath().toString());
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        RecordingSampler sampler = new RecordingSampler();
        engine.register(Sampler.class, sampler, "euler", "Euler");
        engine.register(GenerationMode.class, new InpaintMode(), "inpaint", "inpaint");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
        try {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("init_image", png(Color.RED, null));
            p.put("mask", png(Color.BLACK, Color.WHITE));
            p.put("strength", strength);
            engine.generate(new GenerationRequest("inpaint", "a blue square on a white background", null, "euler", null,
                    4, 7.0, String.valueOf(SEED), SIDE, SIDE, null, null, p), null);
        } finally {
            engine.deactivate();
        }
        return sampler;
    }

    /** A SIDE x SIDE PNG in {@code ground}, with a centred square in {@code square} when not null, base64. */
    private static String png(Color ground, Color square) throws Exception {
        BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(ground);
        g.fillRect(0, 0, SIDE, SIDE);
        if (square != null) {
            g.setColor(square);
            g.fillRect(SIDE / 4, SIDE / 4, SIDE / 2, SIDE / 2);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
