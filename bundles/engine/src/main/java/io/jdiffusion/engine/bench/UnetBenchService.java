package io.jdiffusion.engine.bench;

import ai.onnxruntime.OrtException;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.api.cuda.CudaOptions;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.UnetBench;
import io.jdiffusion.engine.model.ModelFamily;
import io.jdiffusion.engine.model.ModelFolder;
import io.jdiffusion.engine.model.OnnxModel;
import io.jdiffusion.engine.model.XlConditioningInputs;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * {@link UnetBench} on the engine's own model loader: the model is opened by {@link OnnxModel} (so float16, external
 * data, SDXL's second text encoder and 5/9-channel UNets load as for generation) and each step goes through
 * {@link OnnxModel#unet}, the call the guided denoiser makes, with its float16 conversion at the boundary.
 */
@Component(service = UnetBench.class)
public class UnetBenchService implements UnetBench {
    /** A mid-schedule timestep: the UNet's cost does not depend on it. */
    private static final double TIMESTEP = 500;
    /** Classifier-free guidance: the negative and the positive prompt. */
    private static final int GUIDANCE_BATCH = 2;

    private CudaOptions cuda = CudaOptions.none();

    /** For OSGi: the CUDA options come from the framework properties ({@code sd.cuda.*}). */
    public UnetBenchService() {
    }

    /** Outside OSGi (tests): the given CUDA options. */
    public UnetBenchService(CudaOptions cuda) {
        this.cuda = cuda;
    }

    @Activate
    void activate(BundleContext context) {
        cuda = CudaOptions.fromProperties(context::getProperty);
    }

    @Override
    public Loaded load(Path modelDir, String provider, Integer size) {
        OnnxRuntime.Device device = switch (provider) {
            case "CPU" -> OnnxRuntime.Device.CPU;
            case "CUDA" -> OnnxRuntime.Device.CUDA;
            default -> throw new InvalidRequestException("provider", "must be CPU or CUDA, got '" + provider + "'");
        };
        ModelFolder folder;
        try {
            folder = ModelFolder.open(modelDir);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("model", e.getMessage());
        }
        OnnxRuntime runtime = new OnnxRuntime(device, cuda);
        OnnxModel model;
        try {
            model = new OnnxModel(folder, runtime);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load " + modelDir + ": " + e.getMessage(), e);
        }
        try {
            return new Step(model, size == null ? model.defaultResolution() : size);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Random inputs of one sampling step, made once, fed on every {@link #step()}. */
    private static final class Step implements Loaded {
        private final OnnxModel model;
        private final int side;
        private final int latent;
        private final int batch;
        private final int tokens;
        private final float[] sample;
        private final float[] hidden;
        private final float[] textEmbeds;
        private final float[] timeIds;

        Step(OnnxModel model, int side) {
            this.model = model;
            this.side = side;
            int factor = model.vaeFactor();
            if (side <= 0 || side % (8 * factor) != 0) {
                // the UNet halves the latents three times: the latent side must divide by 8
                throw new InvalidRequestException("size", "must be a positive multiple of " + 8 * factor
                        + " (the VAE factor " + factor + " times 8), got " + side);
            }
            this.latent = side / factor;
            // as the engine's guided denoiser: one call of batch 2, or two of batch 1 where the UNet takes 1
            this.batch = model.unetBatchesGuidance() ? GUIDANCE_BATCH : 1;
            this.tokens = model.textModel().maxLength();
            SplittableRandom random = new SplittableRandom(0);
            int channels = model.latentChannels() + model.unetExtraChannels();
            this.sample = gaussian(random, batch * channels * latent * latent);
            this.hidden = gaussian(random, batch * tokens * model.hiddenWidth());
            if (model.takesTextTimeInputs()) {
                // text_embeds: the pooled output of text_encoder_2 (the second encoder of SDXL's text model)
                TextModel text = model.textModel();
                int pooled = text.secondEncoder() != null ? text.secondEncoder().pooledWidth() : text.pooledWidth();
                this.textEmbeds = gaussian(random, batch * pooled);
                // SDXL's add_time_ids for this size, as the engine sends them
                float[] row = XlConditioningInputs.timeIds(side, side);
                this.timeIds = new float[batch * row.length];
                for (int b = 0; b < batch; b++) System.arraycopy(row, 0, timeIds, b * row.length, row.length);
            } else {
                this.textEmbeds = null;
                this.timeIds = null;
            }
        }

        private static float[] gaussian(SplittableRandom random, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) nextGaussian(random);
            return v;
        }

        private static double nextGaussian(SplittableRandom r) { // Box-Muller: SplittableRandom has none on 17
            return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        }

        @Override
        public String provider() {
            return model.runtime().provider();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("id", model.id());
            d.put("family", ModelFamily.detect(model).family());
            d.put("dtype", model.unetDtype());
            d.put("in_channels", model.latentChannels() + model.unetExtraChannels());
            d.put("width", side);
            d.put("height", side);
            List<String> inputs = model.takesTextTimeInputs()
                    ? List.of("sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids")
                    : List.of("sample", "timestep", "encoder_hidden_states");
            d.put("inputs", inputs);
            d.put("encoder_hidden_states", List.of(batch, tokens, model.hiddenWidth()));
            d.put("unet_calls_per_step", GUIDANCE_BATCH / batch);
            return d;
        }

        @Override
        public void step() {
            for (int call = 0; call < GUIDANCE_BATCH / batch; call++) {
                model.unet(sample, batch, latent, latent, TIMESTEP, hidden, tokens, textEmbeds, timeIds);
            }
        }

        @Override
        public void close() {
            model.close();
        }
    }
}
