package io.jdiffusion.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * CLIP's pooling as transformers' CLIPTextTransformer writes it and torch.onnx exports it (CLIPTextModel's
 * pooler_output, CLIPTextModelWithProjection's text_embeds): {@code ids = input_ids.view(-1, S)} is a Reshape read by
 * both the token Gather and {@code ids.to(torch.int).argmax(-1)} (Cast to int32, ArgMax). The rows appended for
 * textual inversion have ids above EOS; the edited graph must still pool at the EOS, whatever the path to the ArgMax.
 */
class TextEncoderGraphPoolingTest {
    static final int V = 6;      // ids 0..5, EOS = 5, the largest
    static final int W = 2;
    static final int S = 4;

    private static ValueInfoProto value(String name, int type, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof Integer i ? TensorShapeProto.Dimension.newBuilder().setDimValue(i)
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(s))).build();
    }

    private static NodeProto.Builder node(String op, String out, String... in) {
        return NodeProto.newBuilder().setName("/text_model/" + op + "_" + out).setOpType(op).addOutput(out)
                .addAllInput(java.util.List.of(in));
    }

    private static AttributeProto ints(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    /** input_ids -> Reshape -> Gather (token rows) / Cast int32 -> ArgMax -> the pooled row and its position. */
    static ModelProto clipLike() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("clip_pooling");
        g.addInput(value("input_ids", TensorProto.DataType.INT64_VALUE, "batch_size", "sequence_length"));
        ByteBuffer table = ByteBuffer.allocate(V * W * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < V * W; i++) table.putFloat(i);
        g.addInitializer(TensorProto.newBuilder().setName(TextEncoderGraph.TABLE).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(V).addDims(W).setRawData(ByteString.copyFrom(table.array())));
        ByteBuffer shape = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(S);
        g.addInitializer(TensorProto.newBuilder().setName("view_shape").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(2).setRawData(ByteString.copyFrom(shape.array())));
        g.addNode(node("Reshape", "ids", "input_ids", "view_shape"));
        g.addNode(node("Gather", "states", TextEncoderGraph.TABLE, "ids").addAttribute(ints("axis", 0)));
        g.addNode(node("Cast", "ids_int", "ids").addAttribute(ints("to", TensorProto.DataType.INT32_VALUE)));
        g.addNode(node("ArgMax", "eos_position", "ids_int").addAttribute(ints("axis", -1)).addAttribute(ints("keepdims", 0)));
        g.addOutput(value("states", TensorProto.DataType.FLOAT_VALUE, "batch_size", S, W));
        g.addOutput(value("eos_position", TensorProto.DataType.INT64_VALUE, "batch_size"));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("pytorch")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(14)).setGraph(g).build();
    }

    @Test
    void theArgMaxBehindAReshapeAndACastStillFindsTheEos() throws Exception {
        ModelProto m = TextEncoderGraph.appendTokenRows(clipLike(), new float[][] {{100, 101}, {200, 201}}, null);
        assertEquals(V + 2, TextEncoderGraph.tableShape(m).rows());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] ids = {0, V + 1, V - 1, V - 1}; // BOS, the second new row, EOS, EOS padding
        try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, S});
             OrtSession.Result r = s.run(Map.of("input_ids", t))) {
            float[][][] states = (float[][][]) r.get("states").orElseThrow().getValue();
            assertArrayEquals(new float[] {200, 201}, states[0][1], "the new id looks up its row");
            assertArrayEquals(new float[] {(V - 1) * W, (V - 1) * W + 1}, states[0][2]);
            assertEquals(2L, ((long[]) r.get("eos_position").orElseThrow().getValue())[0], "pooled at the EOS");
        }
    }
}
