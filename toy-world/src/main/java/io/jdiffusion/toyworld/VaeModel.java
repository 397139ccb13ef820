package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

/** The toy VAE: 8x8 average pool + 1x1 linear map, and back with the pseudo-inverse + bilinear x8. */
final class VaeModel {
    private VaeModel() {
    }

    static ModelProto encoder() {
        return encoder(ToyVae.SCALING_FACTOR);
    }

    static ModelProto decoder() {
        return decoder(ToyVae.SCALING_FACTOR);
    }

    /**
     * With another {@code scaling_factor} (SDXL's VAE: 0.13025) the unscaled latents are scaled so that the pipeline's
     * latents (unscaled x scaling_factor) stay where the toy UNet expects them.
     */
    static ModelProto encoder(double scalingFactor) {
        Graph g = new Graph("toy_vae_encoder");
        String x = g.input("sample", Graph.FLOAT, "batch", 3, "height", "width");
        String pooled = g.op1("AveragePool", x, "kernel_shape", new long[] {8, 8}, "strides", new long[] {8, 8});
        String wt = g.init("encoder.weight", ToyVae.encoderWeight(scalingFactor), 4, 3, 1, 1);
        String b = g.init("encoder.bias", ToyVae.encoderBias(scalingFactor), 4);
        g.opNamed("Conv", "latent_sample", new String[] {pooled, wt, b});
        g.output("latent_sample", Graph.FLOAT, "batch", 4, "height_latent", "width_latent");
        return g.model("toy-world VAE encoder " + ToyWorld.VERSION + ": RGB [-1,1] -> UNSCALED latents");
    }

    static ModelProto decoder(double scalingFactor) {
        Graph g = new Graph("toy_vae_decoder");
        String z = g.input("latent_sample", Graph.FLOAT, "batch", 4, "height_latent", "width_latent");
        String wt = g.init("decoder.weight", ToyVae.decoderWeight(scalingFactor), 3, 4, 1, 1);
        String b = g.init("decoder.bias", ToyVae.decoderBias(), 3);
        String rgb = g.op("Conv", new String[] {z, wt, b});
        String scales = g.floats(1f, 1f, ToyVae.FACTOR, ToyVae.FACTOR);
        g.opNamed("Resize", "sample", new String[] {rgb, "", scales},
                "mode", "linear", "coordinate_transformation_mode", "half_pixel");
        g.output("sample", Graph.FLOAT, "batch", 3, "height", "width");
        return g.model("toy-world VAE decoder " + ToyWorld.VERSION + ": UNSCALED latents -> RGB about [-1,1]");
    }
}
