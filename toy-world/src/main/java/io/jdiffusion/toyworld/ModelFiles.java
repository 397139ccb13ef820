package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a built graph goes to disk: float16 at the graph boundary (for the fp16 variants) and initializers as
 * external data (for the diffusers / Optimum layouts of large models).
 */
final class ModelFiles {
    static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    /**
     * onnx.save_model(save_as_external_data=True) keeps tensors under this many bytes inside model.onnx
     * ({@code size_threshold=1024} in onnx.external_data_helper.convert_model_to_external_data).
     */
    static final int EXTERNAL_THRESHOLD = 1024;

    private ModelFiles() {
    }

    /**
     * Declares every float32 graph input and output float16, with a Cast beside it, so the graph computes in
     * float32 inside but takes and returns float16 as a real fp16 export does.
     */
    static ModelProto float16Boundary(ModelProto model) {
        GraphProto g = model.getGraph();
        GraphProto.Builder b = g.toBuilder().clearNode().clearInput().clearOutput();
        List<NodeProto> casts = new ArrayList<>();
        List<NodeProto> nodes = new ArrayList<>(g.getNodeList());
        for (ValueInfoProto in : g.getInputList()) {
            if (elemType(in) != Graph.FLOAT) {
                b.addInput(in);
                continue;
            }
            String inner = in.getName() + "_fp32";
            nodes = rename(nodes, in.getName(), inner);
            casts.add(cast(in.getName(), inner, Graph.FLOAT));
            b.addInput(withElemType(in, FLOAT16));
        }
        List<NodeProto> outCasts = new ArrayList<>();
        for (ValueInfoProto out : g.getOutputList()) {
            if (elemType(out) != Graph.FLOAT) {
                b.addOutput(out);
                continue;
            }
            String inner = out.getName() + "_fp32";
            nodes = rename(nodes, out.getName(), inner);
            outCasts.add(cast(inner, out.getName(), FLOAT16));
            b.addOutput(withElemType(out, FLOAT16));
        }
        b.addAllNode(casts).addAllNode(nodes).addAllNode(outCasts);
        return model.toBuilder().setGraph(b).build();
    }

    private static int elemType(ValueInfoProto v) {
        return v.getType().getTensorType().getElemType();
    }

    private static ValueInfoProto withElemType(ValueInfoProto v, int type) {
        TypeProto t = v.getType().toBuilder()
                .setTensorType(v.getType().getTensorType().toBuilder().setElemType(type)).build();
        return v.toBuilder().setType(t).build();
    }

    private static NodeProto cast(String from, String to, int type) {
        return NodeProto.newBuilder().setOpType("Cast").setName("boundary_cast_" + to).addInput(from).addOutput(to)
                .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("to")
                        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(type))
                .build();
    }

    /** Every use and definition of a value name in the nodes, renamed. */
    private static List<NodeProto> rename(List<NodeProto> nodes, String from, String to) {
        List<NodeProto> out = new ArrayList<>(nodes.size());
        for (NodeProto n : nodes) {
            NodeProto.Builder nb = n.toBuilder();
            for (int i = 0; i < nb.getInputCount(); i++) if (nb.getInput(i).equals(from)) nb.setInput(i, to);
            for (int i = 0; i < nb.getOutputCount(); i++) if (nb.getOutput(i).equals(from)) nb.setOutput(i, to);
            out.add(nb.build());
        }
        return out;
    }

    /**
     * Writes {@code model.onnx} into {@code dir}; with {@code dataFile} non-null, every initializer of at least
     * {@link #EXTERNAL_THRESHOLD} bytes goes to that one file (appended, in graph order) and the tensor keeps only
     * its {@code location}, {@code offset} and {@code length}, as onnx.save_model(all_tensors_to_one_file=True) does.
     */
    static void write(Path dir, ModelProto model, String dataFile) throws IOException {
        Files.createDirectories(dir);
        if (dataFile == null) {
            Files.write(dir.resolve("model.onnx"), model.toByteArray());
            return;
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getRawData().size() < EXTERNAL_THRESHOLD) continue;
            long offset = data.size();
            t.getRawData().writeTo(data);
            g.setInitializer(i, t.toBuilder().clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", dataFile))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(t.getRawData().size())))
                    .build());
        }
        Files.write(dir.resolve(dataFile), data.toByteArray());
        Files.write(dir.resolve("model.onnx"), model.toBuilder().setGraph(g).build().toByteArray());
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
