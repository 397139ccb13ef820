package io.jdiffusion.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.conditioning.clip.ClipConditioner;
import io.jdiffusion.modes.txt2img.Txt2ImgMode;
import io.jdiffusion.samplers.euler.EulerSampler;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A plugin that throws, or whose bundle goes away mid-run, fails its request with a message naming it; the
 * engine keeps serving. Real pipeline on the toy world, real ONNX Runtime.
 */
@Timeout(120)
class PluginFailureTest {
    private static Engine engine;

    @BeforeAll
    static void start() throws Exception {
        Path model = Path.of("target", "toy-world");
        if (!Files.isDirectory(model)) {
            ToyWorld.write(model, ToyWorldOptions.defaults());
        }
        engine = new Engine();
        Map<String, String> props = new HashMap<>();
        props.put("sd.model", model.toAbsolutePath().toString());
        props.put("sd.device", "cpu");
        engine.configure(props::get);
        engine.register(Sampler.class, new EulerSampler(), "euler", "Euler");
        engine.register(GenerationMode.class, new Txt2ImgMode(), "txt2img", "txt2img");
        engine.register(TextConditioner.class, new ClipConditioner(), "clip", "CLIP");
    }

    @AfterAll
    static void stop() {
        engine.deactivate();
    }

    private static GenerationRequest request(String sampler) {
        return new GenerationRequest(null, "a red circle on a white background", null, sampler, null, 4, 7.5, "1",
                512, 512, 1, null, null);
    }

    /** Euler's plan, and a sample() the test controls. */
    private static final class Hooked implements Sampler {
        final CountDownLatch running = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile Error failWith;

        @Override
        public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
            return new EulerSampler().plan(config, steps, settings);
        }

        @Override
        public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                              Progress progress) {
            running.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (failWith != null) throw failWith;
            return new EulerSampler().sample(model, latents, plan, startStep, noise, progress);
        }
    }

    @Test
    void aSamplerThatThrowsOnEveryCallFailsItsRequestByNameAndTheEngineGoesOn() {
        Sampler broken = new Sampler() {
            @Override
            public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
                throw new IllegalStateException("broken on purpose");
            }

            @Override
            public float[] sample(Denoiser m, float[] x, SamplerPlan p, int s, NoiseSource n, Progress pr) {
                throw new IllegalStateException("broken on purpose");
            }

            @Override
            public List<io.jdiffusion.api.ParameterSpec> parameters() {
                throw new IllegalStateException("broken on purpose");
            }
        };
        engine.register(Sampler.class, broken, "broken", "Broken");
        try {
            RuntimeException e = assertThrows(RuntimeException.class, () -> engine.generate(request("broken"), Progress.NONE));
            assertTrue(e.getMessage().contains("sampler 'broken' (plugin classpath) failed in parameters(): "
                    + "IllegalStateException: broken on purpose"), e.getMessage());
            assertTrue(engine.samplers().stream().anyMatch(d -> d.id().equals("broken")), "still listed");
            assertEquals(1, engine.generate(request("euler"), Progress.NONE).images().size(), "others still work");
        } finally {
            engine.removeSampler(broken);
        }
        InvalidRequestException gone = assertThrows(InvalidRequestException.class,
                () -> engine.generate(request("broken"), Progress.NONE));
        assertTrue(gone.getMessage().contains("unknown sampler 'broken'; available: euler"), gone.getMessage());
    }

    @Test
    void aRunWhosePluginIsUnloadedFinishesOnTheOldCodeOrSaysItWasUnloaded() throws Exception {
        Hooked finishes = new Hooked();
        engine.register(Sampler.class, finishes, "hooked", "Hooked");
        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("hooked"), Progress.NONE));
        assertTrue(finishes.running.await(60, TimeUnit.SECONDS));
        engine.removeSampler(finishes);
        finishes.release.countDown();
        assertEquals(1, run.get(60, TimeUnit.SECONDS).images().size(), "finished on the old code");

        Hooked fails = new Hooked();
        fails.failWith = new NoClassDefFoundError("com/example/Gone");
        engine.register(Sampler.class, fails, "hooked", "Hooked");
        CompletableFuture<GenerationResult> doomed = CompletableFuture.supplyAsync(
                () -> engine.generate(request("hooked"), Progress.NONE));
        assertTrue(fails.running.await(60, TimeUnit.SECONDS));
        engine.removeSampler(fails);
        fails.release.countDown();
        Throwable e = assertThrows(java.util.concurrent.ExecutionException.class, () -> doomed.get(60, TimeUnit.SECONDS)).getCause();
        assertTrue(e.getMessage().contains("sampler 'hooked' (plugin classpath) was unloaded while this request was running; "
                + "try again: NoClassDefFoundError: com/example/Gone"), e.getMessage());
    }
}
