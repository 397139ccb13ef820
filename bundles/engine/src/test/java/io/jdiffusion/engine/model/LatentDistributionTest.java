package io.jdiffusion.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import io.jdiffusion.api.noise.TorchCpuGenerator;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An encoder that returns the latent distribution (Optimum's {@code latent_parameters}: mean and log-variance
 * along the channels) is sampled as diffusers' {@code retrieve_latents(vae.encode(x), generator)}: one
 * {@code randn} draw from the image's generator, {@code (mean + exp(logvar / 2) * eps) * scaling_factor}.
 * An encoder that returns latents alone (diffusers' convert script, the toy world) draws nothing.
 */
class LatentDistributionTest {
    private static final float LOGVAR = (float) Math.log(0.04); // std 0.2
    private static final int SIDE = 64;

    @Test
    void aDistributionIsSampledFromTheImageGeneratorInDiffusersOrder(@TempDir Path tmp) throws Exception {
        Path plain = ToyWorld.write(tmp.resolve("plain"), ToyWorldOptions.defaults());
        Path optimum = ToyWorld.write(tmp.resolve("optimum"), ToyWorldOptions.defaults());
        Path enc = optimum.resolve("vae_encoder/model.onnx");
        Files.write(enc, withLogVariance(ModelProto.parseFrom(Files.readAllBytes(enc))).toByteArray());

        float[] rgb = new float[3 * SIDE * SIDE];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (i % 97) / 96f; // any picture will do
        }
        OnnxRuntime rt = new OnnxRuntime(OnnxRuntime.Device.CPU);
        try (OnnxModel a = new OnnxModel(ModelFolder.open(plain), rt);
             OnnxModel b = new OnnxModel(ModelFolder.open(optimum), rt)) {
            OnnxModel.LatentDistribution latentsOnly = a.encodeDistribution(rgb, SIDE, SIDE);
            OnnxModel.LatentDistribution dist = b.encodeDistribution(rgb, SIDE, SIDE);
            assertNull(latentsOnly.std());
            assertNotNull(dist.std());
            assertArrayEquals(latentsOnly.mean(), dist.mean(), 0f, "the mean is the first half of the channels");
            for (float s : dist.std()) {
                assertEquals(0.2f, s, 1e-6f);
            }

            // latents alone: nothing drawn, so the generator's first draw is still the first
            TorchCpuGenerator g1 = new TorchCpuGenerator(42);
            float[] z = a.latents(latentsOnly, g1);
            float[] firstDraw = new TorchCpuGenerator(42).randn(z.length);
            assertArrayEquals(firstDraw, g1.randn(z.length), 0f);

            // a distribution: the sample takes the first draw, the mode's own noise the second
            TorchCpuGenerator g2 = new TorchCpuGenerator(42);
            float[] sampled = b.latents(dist, g2);
            float sf = (float) b.scalingFactor();
            for (int i = 0; i < sampled.length; i++) {
                assertEquals((dist.mean()[i] + 0.2f * firstDraw[i]) * sf, sampled[i], 1e-6f);
            }
            TorchCpuGenerator ref = new TorchCpuGenerator(42);
            ref.randn(z.length);
            assertArrayEquals(ref.randn(z.length), g2.randn(z.length), 0f);

            // encode() is the mean, scaled, drawing nothing
            float[] mean = b.encode(rgb, SIDE, SIDE);
            for (int i = 0; i < mean.length; i++) {
                assertEquals(dist.mean()[i] * sf, mean[i], 1e-6f);
            }
        }
    }

    /** The toy encoder's output renamed and concatenated with a constant log-variance: Optimum's output. */
    static ModelProto withLogVariance(ModelProto m) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            if (n.getOutputList().contains("latent_sample")) {
                g.setNode(i, n.toBuilder().setOutput(0, "mean"));
            }
        }
        ByteBuffer one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(LOGVAR);
        g.addInitializer(TensorProto.newBuilder().setName("logvar_value").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(one.array())));
        g.addNode(NodeProto.newBuilder().setOpType("Mul").addInput("mean").addInput("zero").addOutput("zeros"));
        g.addInitializer(TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(new byte[4])));
        g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("zeros").addInput("logvar_value").addOutput("logvar"));
        g.addNode(NodeProto.newBuilder().setOpType("Concat").addInput("mean").addInput("logvar")
                .addOutput("latent_parameters").addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis")
                        .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(1)));
        OnnxMl.ValueInfoProto old = g.getOutput(0);
        OnnxMl.TypeProto type = old.getType().toBuilder()
                .setTensorType(old.getType().getTensorType().toBuilder().clearShape()).build();
        OnnxMl.ValueInfoProto out = old.toBuilder().setName("latent_parameters").setType(type).build();
        g.setOutput(0, out);
        return m.toBuilder().setGraph(g).build();
    }
}
