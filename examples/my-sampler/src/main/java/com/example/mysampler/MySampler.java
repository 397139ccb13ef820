package com.example.mysampler;

import io.jdiffusion.api.Denoiser;
import io.jdiffusion.api.NoiseSource;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.Sampler;
import io.jdiffusion.api.SamplerPlan;
import io.jdiffusion.api.SamplerSettings;
import io.jdiffusion.api.SchedulerConfig;
import org.osgi.service.component.annotations.Component;

/** The Euler method on evenly spaced timesteps: the whole sampler. "my_sampler" is the name requests use. */
@Component(service = Sampler.class, property = {Plugin.NAME + "=my_sampler", Plugin.LABEL + "=My Sampler"})
public class MySampler implements Sampler {
    @Override
    public SamplerPlan plan(SchedulerConfig config, int steps, SamplerSettings settings) {
        float[] alphasCumprod = config.alphasCumprod();          // the model's noise levels, one per training step
        int last = alphasCumprod.length - 1;
        double[] timesteps = new double[steps];
        double[] sigmas = new double[steps + 1];                  // sigmas[steps] stays 0: no noise left
        for (int i = 0; i < steps; i++) {
            timesteps[i] = Math.round(last - (double) i * last / steps);
            double a = alphasCumprod[(int) timesteps[i]];
            sigmas[i] = Math.sqrt((1 - a) / a);
        }
        return new SamplerPlan(timesteps, sigmas, Math.sqrt(sigmas[0] * sigmas[0] + 1), 1, config, settings);
    }

    @Override
    public float[] sample(Denoiser model, float[] latents, SamplerPlan plan, int startStep, NoiseSource noise,
                          Progress progress) {
        double[] sigmas = plan.sigmas();
        float[] x = latents.clone();
        float[] input = new float[x.length];
        for (int i = startStep; i < plan.steps(); i++) {
            double scale = 1 / Math.sqrt(sigmas[i] * sigmas[i] + 1);       // the UNet wants unit variance
            for (int j = 0; j < x.length; j++) input[j] = (float) (x[j] * scale);
            float[] eps = model.predict(input, plan.timesteps()[i]);       // the noise the UNet sees in x
            double dt = sigmas[i + 1] - sigmas[i];
            for (int j = 0; j < x.length; j++) x[j] += (float) (eps[j] * dt); // one Euler step towards sigma 0
            progress.step(i + 1, plan.steps());
        }
        return x;
    }
}
