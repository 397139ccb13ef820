package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tiny ONNX graph builder over the {@code OnnxMl} protobuf classes: every op call adds one node and returns
 * the name of its (first) output. Float and int64 tensors are stored little-endian in {@code raw_data}.
 */
final class Graph {
    static final int OPSET = 17;
    static final long IR_VERSION = 8;
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT32 = TensorProto.DataType.INT32_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;

    private final GraphProto.Builder g = GraphProto.newBuilder();
    private int counter;
    /**
     * Node-name prefix while set, as torch.onnx names nodes after the module that made them
     * ({@code /text_model/encoder/layers.0/Add_1}); null: the plain automatic names.
     */
    String scope;

    Graph(String name) {
        g.setName(name);
    }

    /** Declares a graph input; a dim is either an Integer (fixed) or a String (symbolic). */
    String input(String name, int elemType, Object... dims) {
        g.addInput(valueInfo(name, elemType, dims));
        return name;
    }

    void output(String name, int elemType, Object... dims) {
        g.addOutput(valueInfo(name, elemType, dims));
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Integer i) db.setDimValue(i);
            else if (d instanceof Long l) db.setDimValue(l);
            else db.setDimParam(d.toString());
            shape.addDim(db);
        }
        TypeProto type = TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))
                .build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    /** A float initializer. */
    String init(String name, float[] data, long... dims) {
        g.addInitializer(floatTensor(name, data, dims));
        return name;
    }

    /** An initializer made elsewhere (e.g. one whose data lives in an external file). */
    void initializer(TensorProto t) {
        g.addInitializer(t);
    }

    /** An int64 initializer. */
    String initLong(String name, long[] data, long... dims) {
        g.addInitializer(longTensor(name, data, dims));
        return name;
    }

    /** A float scalar constant (rank 0). */
    String scalar(float v) {
        return init(fresh("c"), new float[] {v});
    }

    /** A 1-D int64 constant. */
    String longs(long... v) {
        return initLong(fresh("i"), v, v.length);
    }

    /** An int64 scalar constant (rank 0). */
    String longScalar(long v) {
        return initLong(fresh("l"), new long[] {v});
    }

    /** A 1-D float constant. */
    String floats(float... v) {
        return init(fresh("f"), v, v.length);
    }

    static TensorProto floatTensor(String name, float[] data, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(data);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(bb.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    static TensorProto longTensor(String name, long[] data, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(data);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64)
                .setRawData(ByteString.copyFrom(bb.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    String fresh(String prefix) {
        return prefix + "_" + (counter++);
    }

    /** Adds a node with one output named automatically. Attributes: name, value pairs. */
    String op(String type, String[] inputs, Object... attrs) {
        return opNamed(type, fresh(type.toLowerCase()), inputs, attrs);
    }

    /** One-input op. */
    String op1(String type, String a, Object... attrs) {
        return op(type, new String[] {a}, attrs);
    }

    /** Two-input op. */
    String op2(String type, String a, String b, Object... attrs) {
        return op(type, new String[] {a, b}, attrs);
    }

    /** Adds a node whose single output has the given name. */
    String opNamed(String type, String output, String[] inputs, Object... attrs) {
        String name = scope == null ? "n" + (counter++) + "_" + type : scope + type + "_" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(name).addOutput(output);
        for (String in : inputs) n.addInput(in);
        for (int i = 0; i < attrs.length; i += 2) n.addAttribute(attribute((String) attrs[i], attrs[i + 1]));
        g.addNode(n);
        return output;
    }

    /** Adds a node with an exact name (as torch.onnx writes it) and one output of the given name. */
    String node(String name, String type, String output, String[] inputs, Object... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(name).addOutput(output);
        for (String in : inputs) n.addInput(in);
        for (int i = 0; i < attrs.length; i += 2) n.addAttribute(attribute((String) attrs[i], attrs[i + 1]));
        g.addNode(n);
        return output;
    }

    /** Adds a node with several outputs, all returned. */
    String[] opMulti(String type, String[] inputs, int outputs, Object... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName("n" + (counter++) + "_" + type);
        String[] outs = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            outs[i] = fresh(type.toLowerCase());
            n.addOutput(outs[i]);
        }
        for (String in : inputs) n.addInput(in);
        for (int i = 0; i < attrs.length; i += 2) n.addAttribute(attribute((String) attrs[i], attrs[i + 1]));
        g.addNode(n);
        return outs;
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Integer i) {
            a.setType(AttributeProto.AttributeType.INT).setI(i);
        } else if (v instanceof Long l) {
            a.setType(AttributeProto.AttributeType.INT).setI(l);
        } else if (v instanceof Float f) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else if (v instanceof long[] ls) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long l : ls) a.addInts(l);
        } else if (v instanceof int[] is) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (int i : is) a.addInts(i);
        } else if (v instanceof float[] fs) {
            a.setType(AttributeProto.AttributeType.FLOATS);
            for (float f : fs) a.addFloats(f);
        } else if (v instanceof TensorProto t) {
            a.setType(AttributeProto.AttributeType.TENSOR).setT(t);
        } else {
            throw new IllegalArgumentException("attribute " + name + ": " + v);
        }
        return a.build();
    }

    // ---- small conveniences -------------------------------------------------------------------------------

    String add(String a, String b) { return op2("Add", a, b); }
    String sub(String a, String b) { return op2("Sub", a, b); }
    String mul(String a, String b) { return op2("Mul", a, b); }
    String div(String a, String b) { return op2("Div", a, b); }
    String matmul(String a, String b) { return op2("MatMul", a, b); }
    String abs(String a) { return op1("Abs", a); }
    String sqrt(String a) { return op1("Sqrt", a); }
    String max(String... a) { return op("Max", a); }
    String min(String... a) { return op("Min", a); }
    String castFloat(String a) { return op1("Cast", a, "to", FLOAT); }
    String castLong(String a) { return op1("Cast", a, "to", INT64); }
    String reshape(String a, long... shape) { return op2("Reshape", a, longs(shape)); }
    String reshapeTo(String a, String shape) { return op2("Reshape", a, shape); }
    String unsqueeze(String a, long... axes) { return op2("Unsqueeze", a, longs(axes)); }
    String squeeze(String a, long... axes) { return op2("Squeeze", a, longs(axes)); }
    String concat(int axis, String... parts) { return op("Concat", parts, "axis", axis); }

    String slice(String a, long start, long end, long axis) {
        return op("Slice", new String[] {a, longs(start), longs(end), longs(axis)});
    }

    String reduceSum(String a, boolean keepDims, long... axes) {
        return op("ReduceSum", new String[] {a, longs(axes)}, "keepdims", keepDims ? 1 : 0);
    }

    ModelProto model(String docString) {
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("jdiffusion-toy-world")
                .setProducerVersion(ToyWorld.VERSION)
                .setDocString(docString)
                .setGraph(g)
                .build();
    }
}
