package io.jdiffusion.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The graph edits on a CLIP-like text encoder written as torch.onnx writes one at opset 14: the final
 * layer norm decomposed into ReduceMean / Sub / Pow / ReduceMean_1 / Add / Sqrt / Div / Mul / Add_1 with
 * Constant nodes, two residual Adds per layer, a float16 token table read by a Gather through a Cast.
 */
class TextEncoderGraphTest {
    static final int V = 10;
    static final int W = 6;
    static final int LAYERS = 3;
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private final GraphProto.Builder g = GraphProto.newBuilder().setName("clip");
    private final Random rnd = new Random(3);
    /** Per layer, the scale its residual branches add, so each layer's output is known in Java. */
    private final float[] branch = new float[LAYERS];

    private static ValueInfoProto value(String name, int type, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof Integer i ? TensorShapeProto.Dimension.newBuilder().setDimValue(i)
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(s))).build();
    }

    private void node(String name, String op, String out, String... in) {
        g.addNode(NodeProto.newBuilder().setName(name).setOpType(op).addOutput(out).addAllInput(java.util.List.of(in)));
    }

    private void constant(String name, String out, float v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v);
        g.addNode(NodeProto.newBuilder().setName(name).setOpType("Constant").addOutput(out)
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE)
                                .setRawData(ByteString.copyFrom(b.array())))));
    }

    private void floats(String name, float[] v, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        g.addInitializer(t);
    }

    /** Table values exactly representable in float16. */
    float[] table() {
        Random r = new Random(9);
        float[] t = new float[V * W];
        for (int i = 0; i < t.length; i++) t[i] = (r.nextInt(64) - 32) / 16f;
        return t;
    }

    ModelProto model(boolean hiddenStatesOutputs) {
        g.addInput(value("input_ids", TensorProto.DataType.INT32_VALUE, "batch", "sequence"));
        float[] table = table();
        ByteBuffer b = ByteBuffer.allocate(V * W * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : table) b.putShort(Half.fromFloat(f));
        g.addInitializer(TensorProto.newBuilder().setName("onnx::Gather_123").setDataType(TensorProto.DataType.FLOAT16_VALUE)
                .addDims(V).addDims(W).setRawData(ByteString.copyFrom(b.array())));
        g.addNode(NodeProto.newBuilder().setName("/text_model/embeddings/Cast").setOpType("Cast").addInput("input_ids")
                .addOutput("/text_model/embeddings/Cast_output_0")
                .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(7)));
        node("/text_model/embeddings/token_embedding/Gather", "Gather", "/text_model/embeddings/token_embedding/Gather_output_0",
                "onnx::Gather_123", "/text_model/embeddings/Cast_output_0");
        g.addNode(NodeProto.newBuilder().setName("/text_model/embeddings/Cast_1").setOpType("Cast")
                .addInput("/text_model/embeddings/token_embedding/Gather_output_0").addOutput("/text_model/embeddings/Add_output_0")
                .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(1)));
        String x = "/text_model/embeddings/Add_output_0";
        for (int i = 0; i < LAYERS; i++) {
            String p = "/text_model/encoder/layers." + i + "/";
            branch[i] = 0.25f * (i + 1);
            // residual 1: x + x * a ; residual 2: (that) + (that) * a, the real layer's two Adds
            constant(p + "Constant", p + "Constant_output_0", branch[i]);
            node(p + "Mul", "Mul", p + "Mul_output_0", x, p + "Constant_output_0");
            node(p + "Add", "Add", p + "Add_output_0", x, p + "Mul_output_0");
            node(p + "Mul_1", "Mul", p + "Mul_1_output_0", p + "Add_output_0", p + "Constant_output_0");
            node(p + "Add_1", "Add", p + "Add_1_output_0", p + "Add_output_0", p + "Mul_1_output_0");
            if (hiddenStatesOutputs) {
                node(p + "Identity", "Identity", "hidden_states." + (i + 1), p + "Add_1_output_0");
            }
            x = p + "Add_1_output_0";
        }
        float[] weight = new float[W];
        float[] bias = new float[W];
        for (int d = 0; d < W; d++) {
            weight[d] = 0.5f + rnd.nextFloat();
            bias[d] = rnd.nextFloat() - 0.5f;
        }
        floats("text_model.final_layer_norm.weight", weight, W);
        floats("text_model.final_layer_norm.bias", bias, W);
        String n = "/text_model/final_layer_norm/";
        g.addNode(NodeProto.newBuilder().setName(n + "ReduceMean").setOpType("ReduceMean").addInput(x)
                .addOutput(n + "ReduceMean_output_0")
                .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(-1)));
        node(n + "Sub", "Sub", n + "Sub_output_0", x, n + "ReduceMean_output_0");
        constant(n + "Constant", n + "Constant_output_0", 2f);
        node(n + "Pow", "Pow", n + "Pow_output_0", n + "Sub_output_0", n + "Constant_output_0");
        g.addNode(NodeProto.newBuilder().setName(n + "ReduceMean_1").setOpType("ReduceMean").addInput(n + "Pow_output_0")
                .addOutput(n + "ReduceMean_1_output_0")
                .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(-1)));
        constant(n + "Constant_1", n + "Constant_1_output_0", 1e-5f);
        node(n + "Add", "Add", n + "Add_output_0", n + "ReduceMean_1_output_0", n + "Constant_1_output_0");
        node(n + "Sqrt", "Sqrt", n + "Sqrt_output_0", n + "Add_output_0");
        node(n + "Div", "Div", n + "Div_output_0", n + "Sub_output_0", n + "Sqrt_output_0");
        node(n + "Mul", "Mul", n + "Mul_output_0", n + "Div_output_0", "text_model.final_layer_norm.weight");
        node(n + "Add_1", "Add", "last_hidden_state", n + "Mul_output_0", "text_model.final_layer_norm.bias");
        g.addOutput(value("last_hidden_state", TensorProto.DataType.FLOAT_VALUE, "batch", "sequence", W));
        if (hiddenStatesOutputs) {
            for (int i = 1; i <= LAYERS; i++) {
                g.addOutput(value("hidden_states." + i, TensorProto.DataType.FLOAT_VALUE, "batch", "sequence", W));
            }
        }
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("pytorch")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(14)).setGraph(g).build();
    }

    static float[] run(ModelProto m, String output, long[] ids) throws Exception {
        int[] i32 = new int[ids.length];
        for (int i = 0; i < ids.length; i++) i32[i] = (int) ids[i];
        try (OrtSession s = ENV.createSession(m.toByteArray(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(ENV, java.nio.IntBuffer.wrap(i32), new long[] {1, ids.length});
             OrtSession.Result r = s.run(Map.of("input_ids", t))) {
            float[][][] out = (float[][][]) r.get(output).orElseThrow().getValue();
            float[] flat = new float[ids.length * W];
            for (int i = 0; i < ids.length; i++) System.arraycopy(out[0][i], 0, flat, i * W, W);
            return flat;
        }
    }

    /** The state after {@code layers} layers (0: the embeddings), computed in Java. */
    float[] stateAfter(float[] rows, int layers) {
        float[] x = rows.clone();
        for (int i = 0; i < layers; i++) {
            float a = 1 + branch[i];
            for (int k = 0; k < x.length; k++) x[k] = x[k] * a * a;
        }
        return x;
    }

    static float[] layerNorm(float[] x, ModelProto m) {
        float[] w = initializer(m, "text_model.final_layer_norm.weight");
        float[] b = initializer(m, "text_model.final_layer_norm.bias");
        float[] out = new float[x.length];
        for (int t = 0; t < x.length / W; t++) {
            double mean = 0, var = 0;
            for (int d = 0; d < W; d++) mean += x[t * W + d];
            mean /= W;
            for (int d = 0; d < W; d++) var += (x[t * W + d] - mean) * (x[t * W + d] - mean);
            var /= W;
            for (int d = 0; d < W; d++) out[t * W + d] = (float) ((x[t * W + d] - mean) / Math.sqrt(var + 1e-5) * w[d] + b[d]);
        }
        return out;
    }

    static float[] initializer(ModelProto m, String name) {
        TensorProto t = m.getGraph().getInitializerList().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
        float[] out = new float[(int) t.getDims(0)];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void clipSkipClonesADecomposedFinalNormOntoEachLayer() throws Exception {
        ModelProto m = model(false);
        long[] ids = {1, 4, 9, 0};
        float[] rows = new float[ids.length * W];
        float[] table = table();
        for (int i = 0; i < ids.length; i++) System.arraycopy(table, (int) ids[i] * W, rows, i * W, W);
        assertArrayEquals(layerNorm(stateAfter(rows, LAYERS), m), run(m, "last_hidden_state", ids), 1e-4f);
        for (int skip = 2; skip <= LAYERS + 1; skip++) {
            ModelProto edited = TextEncoderGraph.addClipSkipOutput(m, skip);
            float[] got = run(edited, TextEncoderGraph.clipSkipOutput(skip), ids);
            assertArrayEquals(layerNorm(stateAfter(rows, LAYERS + 1 - skip), m), got, 1e-4f, "clip skip " + skip);
            // the original output is untouched
            assertArrayEquals(run(m, "last_hidden_state", ids), run(edited, "last_hidden_state", ids), 0f);
        }
        TextEncoderGraph.ClipSkipUnavailable e = assertThrows(TextEncoderGraph.ClipSkipUnavailable.class,
                () -> TextEncoderGraph.addClipSkipOutput(m, LAYERS + 2));
        assertTrue(e.getMessage().contains(LAYERS + " layers"), e.getMessage());
    }

    @Test
    void existingHiddenStatesOutputsAreUsed() throws Exception {
        ModelProto m = model(true);
        long[] ids = {2, 3};
        ModelProto edited = TextEncoderGraph.addClipSkipOutput(m, 2);
        float[] expected = layerNorm(run(m, "hidden_states." + (LAYERS - 1), ids), m);
        assertArrayEquals(expected, run(edited, TextEncoderGraph.clipSkipOutput(2), ids), 1e-4f);
    }

    @Test
    void aGraphWithoutTheNamesIsAClearError() {
        ModelProto m = model(false);
        GraphProto.Builder renamed = m.getGraph().toBuilder();
        for (int i = 0; i < renamed.getNodeCount(); i++) {
            renamed.setNode(i, renamed.getNode(i).toBuilder().setName("node_" + i));
        }
        ModelProto fused = m.toBuilder().setGraph(renamed).build();
        TextEncoderGraph.ClipSkipUnavailable e = assertThrows(TextEncoderGraph.ClipSkipUnavailable.class,
                () -> TextEncoderGraph.addClipSkipOutput(fused, 2));
        assertTrue(e.getMessage().contains("final layer norm"), e.getMessage());
    }

    @Test
    void rowsAreAppendedToAFloat16TableFoundThroughItsGather() throws Exception {
        ModelProto m = model(false);
        assertEquals(new TextEncoderGraph.TableShape(V, W), TextEncoderGraph.tableShape(m));
        float[][] extra = {{1, 2, 3, 4, 5, 6}, {-1, 0.5f, 0, 0.25f, 8, -2}};
        ModelProto grown = TextEncoderGraph.appendTokenRows(m, extra, Path.of("."));
        assertEquals(new TextEncoderGraph.TableShape(V + 2, W), TextEncoderGraph.tableShape(grown));
        float[] rows = new float[2 * W];
        System.arraycopy(extra[1], 0, rows, 0, W);
        System.arraycopy(table(), 3 * W, rows, W, W);
        assertArrayEquals(layerNorm(stateAfter(rows, LAYERS), m), run(grown, "last_hidden_state", new long[] {V + 1, 3}), 1e-3f);
    }
}
