package io.jdiffusion.engine;

import io.jdiffusion.api.GenerationMode;
import io.jdiffusion.api.NoiseSchedule;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerNames;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.PluginDescription;
import io.jdiffusion.api.service.SamplerTracer;
import io.jdiffusion.engine.model.ModelManager;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.engine.pipeline.Job;
import io.jdiffusion.engine.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine service: tracks sampler, mode, schedule and conditioner services by their
 * properties (never their classes), validates requests, and runs them one at a time.
 */
@Component(service = {GenerationService.class, SamplerTracer.class}, immediate = true)
public class Engine implements GenerationService, SamplerTracer {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final PluginRegistry<Sampler> samplers = new PluginRegistry<>("sampler", Sampler.class);
    private final PluginRegistry<GenerationMode> modes = new PluginRegistry<>("mode", GenerationMode.class);
    private final PluginRegistry<NoiseSchedule> schedules = new PluginRegistry<>("schedule", NoiseSchedule.class);
    private final PluginRegistry<TextConditioner> conditioners = new PluginRegistry<>("conditioner", TextConditioner.class);
    private final PluginRegistry<io.jdiffusion.api.DepthEstimator> depthEstimators =
            new PluginRegistry<>("depth estimator", io.jdiffusion.api.DepthEstimator.class);
    private final AtomicInteger queued = new AtomicInteger();
    private ExecutorService worker;
    private OnnxRuntime runtime;
    private ModelManager models;
    private OutputStore outputs;

    @Activate
    void activate(BundleContext context) {
        configure(context::getProperty);
    }

    /** Starts the engine from properties (framework properties, or a map in tests). */
    public void configure(java.util.function.Function<String, String> props) {
        runtime = new OnnxRuntime(OnnxRuntime.parseDevice(props.apply("sd.device")),
                io.jdiffusion.api.cuda.CudaOptions.fromProperties(props));
        String model = props.apply("sd.model");
        String modelsDir = props.apply("sd.models.dir");
        String resident = props.apply("sd.models.resident");
        models = new ModelManager(runtime, model == null ? null : Path.of(model),
                modelsDir == null ? null : Path.of(modelsDir), resident == null ? 2 : Integer.parseInt(resident));
        String out = props.apply("sd.outputs");
        outputs = out == null || out.isBlank() ? null : new OutputStore(Path.of(out));
        worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jdiffusion-generate");
            t.setDaemon(true);
            return t;
        });
    }

    @Deactivate
    public void deactivate() {
        if (worker != null) {
            worker.shutdownNow();
        }
        if (models != null) {
            models.close();
        }
    }

    // --- plugin tracking -------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addSampler(ServiceReference<Sampler> ref, Sampler s) {
        samplers.add(s, props(ref), bundleName(ref));
    }

    public void removeSampler(Sampler s) {
        samplers.remove(s);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addMode(ServiceReference<GenerationMode> ref, GenerationMode m) {
        modes.add(m, props(ref), bundleName(ref));
    }

    public void removeMode(GenerationMode m) {
        modes.remove(m);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addSchedule(ServiceReference<NoiseSchedule> ref, NoiseSchedule s) {
        schedules.add(s, props(ref), bundleName(ref));
    }

    public void removeSchedule(NoiseSchedule s) {
        schedules.remove(s);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addConditioner(ServiceReference<TextConditioner> ref, TextConditioner c) {
        conditioners.add(c, props(ref), bundleName(ref));
    }

    public void removeConditioner(TextConditioner c) {
        conditioners.remove(c);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addDepthEstimator(ServiceReference<io.jdiffusion.api.DepthEstimator> ref,
                                  io.jdiffusion.api.DepthEstimator d) {
        depthEstimators.add(d, props(ref), bundleName(ref));
    }

    public void removeDepthEstimator(io.jdiffusion.api.DepthEstimator d) {
        depthEstimators.remove(d);
    }

    /** For use without OSGi (tests, tools): register a plugin with its name and label. */
    public <T> void register(Class<T> kind, T service, String name, String label) {
        Map<String, Object> p = Map.of(Plugin.NAME, name, Plugin.LABEL, label);
        if (kind == Sampler.class) {
            samplers.add((Sampler) service, p, "classpath");
        } else if (kind == GenerationMode.class) {
            modes.add((GenerationMode) service, p, "classpath");
        } else if (kind == NoiseSchedule.class) {
            schedules.add((NoiseSchedule) service, p, "classpath");
        } else if (kind == TextConditioner.class) {
            conditioners.add((TextConditioner) service, p, "classpath");
        } else {
            throw new IllegalArgumentException("not a plugin kind: " + kind);
        }
    }

    private static Map<String, Object> props(ServiceReference<?> ref) {
        Map<String, Object> m = new HashMap<>();
        for (String k : ref.getPropertyKeys()) {
            m.put(k, ref.getProperty(k));
        }
        return m;
    }

    private static String bundleName(ServiceReference<?> ref) {
        return ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
    }

    // --- GenerationService ---------------------------------------------------------------

    @Override
    public GenerationResult generate(GenerationRequest request, Progress progress) {
        Job job = resolve(request);
        queued.incrementAndGet();
        Future<GenerationResult> f = worker.submit(() -> {
            queued.decrementAndGet();
            List<Named<io.jdiffusion.api.DepthEstimator>> depth = depthEstimators.all();
            return Pipeline.run(withModel(job, request), progress == null ? Progress.NONE : progress,
                    depth.isEmpty() ? null : depth.get(0).service());
        });
        GenerationResult result;
        try {
            result = f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(c.getMessage(), c);
        }
        if (outputs != null) {
            outputs.save(job.mode().plugin().id(), result);
        }
        return result;
    }

    /** Validates and resolves everything but the model, which loads on the worker thread. */
    private Job resolve(GenerationRequest r) {
        String modeName = r.mode() == null || r.mode().isBlank() ? "txt2img" : r.mode();
        Named<GenerationMode> mode = require("mode", modes, modeName);
        String samplerName = r.sampler() == null || r.sampler().isBlank() ? "euler" : r.sampler();
        // "DPM++ 2M Karras" (A1111's label) is sampler "DPM++ 2M" with schedule "karras"
        SamplerNames.Split split = SamplerNames.split(samplerName, n -> samplers.find(n) != null);
        Named<Sampler> sampler = require("sampler", samplers, split.sampler());
        String scheduleName = r.schedule();
        if (split.schedule() != null) {
            if (scheduleName != null && !scheduleName.isBlank() && !scheduleName.equalsIgnoreCase("default")
                    && !split.schedule().equalsIgnoreCase(SamplerNames.scheduleId(scheduleName))) {
                throw new InvalidRequestException("schedule", "'" + scheduleName + "' contradicts the sampler label '"
                        + samplerName + "'");
            }
            scheduleName = split.schedule();
        }
        Named<NoiseSchedule> schedule = schedule(sampler, scheduleName);
        String modelId = r.model() == null || r.model().isBlank() ? models.defaultId() : r.model();
        if (modelId == null || !models.known().containsKey(modelId)) {
            throw new InvalidRequestException("model", "unknown model '" + modelId + "'; available: "
                    + String.join(", ", models.known().keySet()));
        }
        if (conditioners.all().isEmpty()) {
            throw new IllegalStateException("no text conditioner plugin is installed");
        }
        Named<TextConditioner> conditioner = conditioners.find("clip");
        if (conditioner == null) {
            conditioner = conditioners.all().get(0);
        }
        int steps = RequestValidator.steps(r.steps());
        double cfg = RequestValidator.cfg(r.cfgScale());
        int batch = RequestValidator.batch(r.batchSize());
        long seed = RequestValidator.seed(r.seed());
        RequestValidator.params(sampler.id(), sampler.service().parameters(), r.params());
        RequestValidator.params(mode.id(), mode.service().parameters(), r.params());
        int defaultSide = defaultSide(modelId);
        checkUnetChannels(mode, configExtraChannels(modelId), modelId);
        // images a mode takes (img2img's init_image) arrive decoded and fitted to width x height; without a size
        // the request takes its init image's, as diffusers' image pipelines do
        Map<String, io.jdiffusion.api.RgbImage> images = io.jdiffusion.engine.image.ImageInputs.decode(r.params(),
                mode.service().imageInputs(), mode.service().sameSizeImages());
        io.jdiffusion.api.RgbImage sizing = images.containsKey("init_image") ? images.get("init_image")
                : images.values().stream().findFirst().orElse(null);
        int[] natural = sizing == null ? new int[] {defaultSide, defaultSide}
                : io.jdiffusion.engine.image.ImageInputs.naturalSize(sizing, 64, RequestValidator.MAX_SIDE);
        int width = RequestValidator.side("width", r.width(), natural[0]);
        int height = RequestValidator.side("height", r.height(), natural[1]);
        Map<String, Object> modeInputs = io.jdiffusion.engine.image.ImageInputs.fit(r.params(), images, width, height);
        mode.service().check(modeInputs);
        Map<String, Object> samplerParams = new LinkedHashMap<>();
        sampler.service().parameters().forEach(p -> {
            if (r.params().containsKey(p.name())) {
                samplerParams.put(p.name(), r.params().get(p.name()));
            }
        });
        return new Job(new Job.GenerationModeRef(mode, modeInputs), r.prompt() == null ? "" : r.prompt(),
                r.negativePrompt() == null ? "" : r.negativePrompt(), sampler, schedule, steps, cfg, seed, width,
                height, batch, null, conditioner, samplerParams, modelId, NoiseSources.parse(r.params().get("noise_source")),
                RequestValidator.clipSkip(r.params().get("clip_skip")));
    }

    /** The model's native resolution (UNet sample_size x VAE factor), read from its configs without loading it. */
    private int defaultSide(String modelId) {
        try {
            io.jdiffusion.engine.model.ModelFolder f = io.jdiffusion.engine.model.ModelFolder.open(models.known().get(modelId));
            return f.unetSampleSize() * f.vaeFactor();
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("model", e.getMessage());
        }
    }

    private Job withModel(Job job, GenerationRequest r) {
        OnnxModel model = models.get(job.modelId());
        checkUnetChannels(job.mode().plugin(), model.unetExtraChannels(), model.id()); // the graph has the last word
        return job.withModel(model);
    }

    /** UNet input channels beyond the 4 latent ones from unet/config.json's in_channels, or -1 when unknown. */
    private int configExtraChannels(String modelId) {
        Object c = io.jdiffusion.engine.model.ModelFolder.read(models.known().get(modelId))
                .readJsonIfPresent("unet/config.json").get("in_channels");
        return c instanceof Number n ? n.intValue() - 4 : -1;
    }

    private static void checkUnetChannels(Named<GenerationMode> mode, int extra, String modelId) {
        if (extra < 0 || mode.service().acceptsUnetChannels(extra)) {
            return;
        }
        String unet = switch (extra) {
            case 0 -> "an ordinary (4-channel) UNet";
            case 1 -> "a depth (5-channel) UNet";
            case 5 -> "an inpainting (9-channel) UNet";
            default -> "a UNet with " + (extra + 4) + " input channels";
        };
        throw new InvalidRequestException("model", "model " + modelId + " has " + unet + ", which mode '" + mode.id()
                + "' cannot use; pick a model made for it (GET /api/v1/models shows each model's variant)");
    }

    private static <T> Named<T> require(String field, PluginRegistry<T> registry, String name) {
        Named<T> n = registry.find(name);
        if (n == null) {
            throw new InvalidRequestException(field, "unknown " + registry.kind() + " '" + name + "'; available: "
                    + registry.available());
        }
        return n;
    }

    @Override
    public String trace(String sampler, String schedule, String prediction, int steps, long seed,
                        Map<String, Object> params) {
        Named<Sampler> s = require("sampler", samplers, sampler);
        Named<NoiseSchedule> sch = schedule(s, schedule);
        io.jdiffusion.api.PredictionType.fromConfig(prediction);
        RequestValidator.params(s.id(), s.service().parameters(), params);
        return SamplerTrace.run(s.service(), s.id(), sch == null ? null : sch.service(), sch == null ? null : sch.id(),
                prediction, RequestValidator.steps(steps), seed, params);
    }

    /** The schedule a request names, or null for the sampler's own spacing. */
    private Named<NoiseSchedule> schedule(Named<Sampler> sampler, String name) {
        if (name == null || name.isBlank() || name.equalsIgnoreCase("default")) {
            return null;
        }
        Named<NoiseSchedule> sch = require("schedule", schedules, name);
        if (!sampler.service().acceptsSchedule()) {
            throw new InvalidRequestException("schedule", sampler.label() + " uses its own timestep spacing and takes "
                    + "no schedule; use default, or a sampler such as Euler or DPM++ 2M");
        }
        return sch;
    }

    @Override
    public List<PluginDescription> samplers() {
        return describe(samplers, s -> s.parameters());
    }

    @Override
    public List<PluginDescription> modes() {
        return describe(modes, m -> m.parameters());
    }

    @Override
    public List<PluginDescription> schedules() {
        return describe(schedules, s -> List.of());
    }

    private static <T> List<PluginDescription> describe(PluginRegistry<T> reg,
                                                        java.util.function.Function<T, List<io.jdiffusion.api.ParameterSpec>> params) {
        List<PluginDescription> out = new ArrayList<>();
        for (Named<T> n : reg.all()) {
            List<io.jdiffusion.api.ParameterSpec> p;
            try {
                p = params.apply(n.service());
            } catch (RuntimeException e) {
                LOG.warn("{} {} failed to list its parameters: {}", reg.kind(), n.id(), e.toString());
                p = List.of();
            }
            out.add(new PluginDescription(n.id(), n.label(), n.bundle(), p));
        }
        return out;
    }

    @Override
    public List<Map<String, Object>> models() {
        List<Map<String, Object>> out = new ArrayList<>();
        models.known().forEach((id, path) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("path", path.toString());
            m.putAll(family(id, path).toMap());
            m.put("default", id.equals(models.defaultId()));
            m.put("loaded", models.isLoaded(id));
            out.add(m);
        });
        return out;
    }

    /** From the configs, or from the sessions when the model is loaded anyway (then dtype is known). */
    private io.jdiffusion.engine.model.ModelFamily family(String id, Path path) {
        OnnxModel loaded = models.loadedOrNull(id);
        if (loaded != null) {
            try {
                return io.jdiffusion.engine.model.ModelFamily.detect(loaded);
            } catch (IllegalStateException e) {
                // evicted by the worker between the lookup and the read: describe it from its configs
            }
        }
        return io.jdiffusion.engine.model.ModelFamily.detect(io.jdiffusion.engine.model.ModelFolder.read(path));
    }

    @Override
    public boolean unloadModel(String id) {
        if (id == null || !models.known().containsKey(id)) {
            throw new java.util.NoSuchElementException("unknown model '" + id + "'; available: "
                    + String.join(", ", models.known().keySet()));
        }
        // on the worker, so it waits for queued generations instead of closing sessions under a running one
        Future<Boolean> f = worker.submit(() -> models.unload(id));
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while unloading " + id, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot unload " + id + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public byte[] estimateDepth(String model, Object image) {
        String id = model == null || model.isBlank() ? models.defaultId() : model;
        if (id == null || !models.known().containsKey(id)) {
            throw new InvalidRequestException("model", "unknown model '" + id + "'; available: "
                    + String.join(", ", models.known().keySet()));
        }
        io.jdiffusion.api.RgbImage rgb = io.jdiffusion.engine.image.ImageDecoder.decode("init_image", image);
        // on the worker, like a generation: the estimator's session belongs to the loaded model
        Future<byte[]> f = worker.submit(() -> {
            io.jdiffusion.api.DepthEstimator estimator = models.get(id).depthEstimator();
            if (estimator == null && !depthEstimators.all().isEmpty()) {
                estimator = depthEstimators.all().get(0).service();
            }
            if (estimator == null) {
                throw new InvalidRequestException("model", "model " + id + " has no depth estimator (no "
                        + "depth_estimator/ folder) and no depth estimator plugin is installed; upload a depth map instead");
            }
            return io.jdiffusion.engine.depth.DepthPreview.png(estimator.estimate(rgb));
        });
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while estimating depth", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("provider", runtime.provider());
        if (runtime.fallbackReason() != null) {
            m.put("cuda_unavailable", runtime.fallbackReason());
        }
        if (!runtime.cudaOptions().isEmpty()) {
            m.put("cuda_options", runtime.cudaOptions().values());
        }
        m.put("loaded_models", models.loadedIds());
        m.put("queued", queued.get());
        m.put("samplers", samplers.all().size());
        return m;
    }

    @Override
    public int countTokens(String model, String prompt) {
        String id = model == null || model.isBlank() ? models.defaultId() : model;
        if (!models.known().containsKey(id)) {
            throw new InvalidRequestException("model", "unknown model '" + id + "'");
        }
        Named<TextConditioner> c = conditioners.find("clip");
        if (c == null) {
            throw new IllegalStateException("no text conditioner plugin is installed");
        }
        return c.service().countTokens(textModelForCounting(id), prompt == null ? "" : prompt);
    }

    /**
     * The loaded model's text model, else one read from the folder: counting needs only the tokenizer, and
     * loading here (an HTTP thread) would evict, and close, the sessions of a model the worker is running.
     */
    private io.jdiffusion.api.TextModel textModelForCounting(String id) {
        OnnxModel loaded = models.loadedOrNull(id);
        if (loaded != null) {
            return loaded.textModel(1);
        }
        return io.jdiffusion.engine.model.ModelFolder.read(models.known().get(id)).unloadedTextModel();
    }
}
