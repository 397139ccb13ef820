package io.jdiffusion.engine.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits of a CLIP text encoder graph (a torch.onnx / optimum export of transformers' CLIPTextModel):
 * <ul>
 * <li>{@link #appendTokenRows}: textual-inversion vectors as new rows of the token-embedding table
 * ({@code text_model.embeddings.token_embedding.weight}, or the table of the Gather that reads
 * {@code input_ids}), so ids from the vocabulary size on look them up;</li>
 * <li>{@link #addClipSkipOutput}: an output with the hidden state {@code clipSkip - 1} layers before the
 * last, through the final layer norm (A1111's CLIP skip), for graphs that output only
 * {@code last_hidden_state}. torch.onnx names the nodes after the module path, so layer {@code i} is the
 * group {@code /text_model/encoder/layers.i/...} and the final norm {@code /text_model/final_layer_norm/...}
 * (one LayerNormalization from opset 17, ReduceMean/Sub/Pow/... below). The output of layer {@code i} is
 * the residual sum that layer {@code i+1} (or the final norm) reads; the final norm's nodes are cloned
 * onto the chosen layer's output.</li>
 * </ul>
 */
public final class TextEncoderGraph {
    public static final String TABLE = "text_model.embeddings.token_embedding.weight";
    static final String LAYER_PREFIX = "/text_model/encoder/layers.";
    static final String FINAL_NORM_PREFIX = "/text_model/final_layer_norm/";
    private static final Pattern LAYER = Pattern.compile("^/text_model/encoder/layers\\.(\\d+)/");
    private static final Pattern HIDDEN_STATES = Pattern.compile("^hidden_states\\.(\\d+)$");

    private TextEncoderGraph() {
    }

    /** The table's {@code [rows, width]}. */
    public record TableShape(int rows, int width) {
    }

    /** A clip-skip edit that cannot be made on this graph; the message says why. */
    public static final class ClipSkipUnavailable extends RuntimeException {
        ClipSkipUnavailable(String message) {
            super(message);
        }
    }

    public static ModelProto read(Path model) throws IOException {
        try (InputStream in = Files.newInputStream(model)) {
            return ModelProto.parseFrom(com.google.protobuf.CodedInputStream.newInstance(in));
        }
    }

    /** The token table initializer: by its name, else the table of the Gather that reads input_ids. */
    static TensorProto table(GraphProto g) {
        Map<String, TensorProto> inits = new HashMap<>();
        g.getInitializerList().forEach(t -> inits.put(t.getName(), t));
        if (inits.containsKey(TABLE)) {
            return inits.get(TABLE);
        }
        Set<String> ids = idTensors(g.getNodeList(), Map.of("input_ids", 0)).keySet();
        for (NodeProto n : g.getNodeList()) {
            if (n.getOpType().equals("Gather") && n.getInputCount() == 2 && ids.contains(n.getInput(1))) {
                TensorProto t = inits.get(n.getInput(0));
                if (t != null && t.getDimsCount() == 2) {
                    return t;
                }
            }
        }
        throw new IllegalStateException("the text encoder has no token-embedding table: no initializer " + TABLE
                + " and no Gather of input_ids from a 2-d initializer");
    }

    public static TableShape tableShape(ModelProto model) {
        TensorProto t = table(model.getGraph());
        return new TableShape((int) t.getDims(0), (int) t.getDims(1));
    }

    /**
     * The model with {@code rows} appended to its token table (kept in the table's element type, float32
     * or float16); a table stored in an external file is read from {@code modelDir} and inlined.
     */
    public static ModelProto appendTokenRows(ModelProto model, float[][] rows, Path modelDir) throws IOException {
        if (rows.length == 0) {
            return model;
        }
        GraphProto g = model.getGraph();
        TensorProto table = table(g);
        int vocab = (int) table.getDims(0);
        int width = (int) table.getDims(1);
        for (float[] r : rows) {
            if (r.length != width) {
                throw new IllegalArgumentException("an extra token row is " + r.length + " wide, the table " + width);
            }
        }
        int elem = switch (table.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> 4;
            case TensorProto.DataType.FLOAT16_VALUE -> 2;
            default -> throw new IllegalStateException("token table of element type " + table.getDataType()
                    + " cannot take extra rows (float32 and float16 can)");
        };
        byte[] old = tableBytes(table, (long) vocab * width * elem, modelDir);
        ByteBuffer b = ByteBuffer.allocate(old.length + rows.length * width * elem).order(ByteOrder.LITTLE_ENDIAN);
        b.put(old);
        for (float[] r : rows) {
            for (float v : r) {
                if (elem == 4) {
                    b.putFloat(v);
                } else {
                    b.putShort(Half.fromFloat(v));
                }
            }
        }
        TensorProto grown = table.toBuilder().clearDims().addDims(vocab + rows.length).addDims(width)
                .clearFloatData().clearInt32Data().clearExternalData()
                .setDataLocation(TensorProto.DataLocation.DEFAULT)
                .setRawData(ByteString.copyFrom(b.array())).build();
        GraphProto.Builder gb = g.toBuilder();
        for (int i = 0; i < gb.getInitializerCount(); i++) {
            if (gb.getInitializer(i).getName().equals(table.getName())) {
                gb.setInitializer(i, grown);
            }
        }
        hideExtraIdsFromArgMax(gb, vocab);
        return model.toBuilder().setGraph(gb).build();
    }

    /** Ops that pass the ids on unchanged but for their shape or element type. */
    private static final Set<String> PASS_IDS = Set.of("Cast", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten");

    /**
     * The tensors holding the ids, with their element types: the given ones and what Cast, Reshape and the like make
     * of them. transformers' CLIPTextTransformer reads {@code input_ids.view(-1, S)} (a Reshape in torch.onnx exports)
     * for both the token Gather and the pooling {@code .to(torch.int).argmax(-1)} (a Cast to int32, then ArgMax).
     */
    private static Map<String, Integer> idTensors(List<NodeProto> nodes, Map<String, Integer> start) {
        Map<String, Integer> ids = new HashMap<>(start);
        for (NodeProto n : nodes) { // node order is topological
            if (!PASS_IDS.contains(n.getOpType()) || n.getInputCount() < 1 || !ids.containsKey(n.getInput(0))
                    || n.getOutputCount() != 1) {
                continue;
            }
            int type = ids.get(n.getInput(0));
            if (n.getOpType().equals("Cast")) {
                for (ai.onnx.proto.OnnxMl.AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("to")) {
                        type = (int) a.getI();
                    }
                }
            }
            ids.put(n.getOutput(0), type);
        }
        return ids;
    }

    /**
     * CLIP pools the state at {@code argmax(input_ids)}, the EOS token, which has the largest id of the
     * vocabulary; the new ids are larger still. Each ArgMax that reads the ids (directly or through a Cast, Reshape...)
     * reads them with the new ids set to 0 instead, as A1111 feeds 0 where an embedding goes.
     */
    private static void hideExtraIdsFromArgMax(GraphProto.Builder g, int vocab) {
        Map<String, Integer> idTypes = new HashMap<>(); // tensors holding the ids, with their element type
        for (ValueInfoProto in : g.getInputList()) {
            if (in.getName().equals("input_ids")) {
                idTypes.put(in.getName(), in.getType().getTensorType().getElemType());
            }
        }
        idTypes = idTensors(g.getNodeList(), idTypes);
        // one pass in node order, so each new pair of nodes lands right before the ArgMax that reads it
        List<NodeProto> nodes = new ArrayList<>();
        int count = 0;
        for (NodeProto n : g.getNodeList()) {
            if (!n.getOpType().equals("ArgMax") || n.getInputCount() != 1 || !idTypes.containsKey(n.getInput(0))) {
                nodes.add(n);
                continue;
            }
            String ids = n.getInput(0);
            int type = idTypes.get(ids);
            String p = "/text_model/extra_token_ids/" + count++ + "/";
            g.addInitializer(scalar(p + "vocabulary_size", type, vocab));
            g.addInitializer(scalar(p + "zero", type, 0));
            nodes.add(NodeProto.newBuilder().setName(p + "Less").setOpType("Less").addInput(ids)
                    .addInput(p + "vocabulary_size").addOutput(p + "Less_output_0").build());
            nodes.add(NodeProto.newBuilder().setName(p + "Where").setOpType("Where").addInput(p + "Less_output_0")
                    .addInput(ids).addInput(p + "zero").addOutput(p + "Where_output_0").build());
            nodes.add(n.toBuilder().setInput(0, p + "Where_output_0").build());
        }
        g.clearNode().addAllNode(nodes);
    }

    private static TensorProto scalar(String name, int type, long value) {
        ByteBuffer b;
        if (type == TensorProto.DataType.INT64_VALUE) {
            b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        } else if (type == TensorProto.DataType.INT32_VALUE) {
            b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value);
        } else if (type == TensorProto.DataType.FLOAT_VALUE) {
            b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
        } else if (type == TensorProto.DataType.DOUBLE_VALUE) {
            b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(value);
        } else {
            throw new IllegalStateException("input_ids of element type " + type + " reach an ArgMax");
        }
        return TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(b.array())).build();
    }

    /** The table's little-endian bytes, from raw_data, the typed field, or an external file. */
    private static byte[] tableBytes(TensorProto t, long size, Path modelDir) throws IOException {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            String location = null;
            long offset = 0;
            long length = -1;
            for (StringStringEntryProto e : t.getExternalDataList()) {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { }
                }
            }
            if (location == null) {
                throw new IllegalStateException("external token table without a location");
            }
            Path file = modelDir.resolve(location).normalize();
            if (!file.startsWith(modelDir.normalize())) {
                throw new IllegalStateException("external data location " + location + " leaves the model folder");
            }
            if (length >= 0 && length != size) {
                throw new IllegalStateException("external token table holds " + length + " bytes, expected " + size);
            }
            byte[] out = new byte[(int) size];
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                f.seek(offset);
                f.readFully(out);
            }
            return out;
        }
        if (!t.getRawData().isEmpty()) {
            if (t.getRawData().size() != size) {
                throw new IllegalStateException("token table holds " + t.getRawData().size() + " bytes, expected " + size);
            }
            return t.getRawData().toByteArray();
        }
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
            t.getFloatDataList().forEach(b::putFloat);
        } else { // float16 in int32_data, one value per entry
            t.getInt32DataList().forEach(v -> b.putShort((short) (int) v));
        }
        return b.array();
    }

    /** The name {@link #addClipSkipOutput} gives the output. */
    public static String clipSkipOutput(int clipSkip) {
        return "clip_skip_" + clipSkip + "_hidden_state";
    }

    /**
     * The model with one more output, {@link #clipSkipOutput}: the hidden state {@code clipSkip - 1}
     * layers before the last, through a copy of the final layer norm. {@code clipSkip} 1 is
     * {@code last_hidden_state} itself and needs no edit.
     *
     * @throws ClipSkipUnavailable when the graph's layers or final layer norm cannot be found
     */
    public static ModelProto addClipSkipOutput(ModelProto model, int clipSkip) {
        if (clipSkip < 2) {
            throw new IllegalArgumentException("clip skip " + clipSkip + " needs no extra output");
        }
        GraphProto g = model.getGraph();
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : g.getNodeList()) {
            n.getOutputList().forEach(o -> producer.put(o, n));
        }
        List<NodeProto> norm = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            if (n.getName().startsWith(FINAL_NORM_PREFIX)) {
                norm.add(n);
            }
        }
        if (norm.isEmpty()) {
            throw new ClipSkipUnavailable("no final layer norm (nodes named " + FINAL_NORM_PREFIX + "...) in the text encoder");
        }
        TreeSet<Integer> layerIds = new TreeSet<>();
        for (NodeProto n : g.getNodeList()) {
            Matcher m = LAYER.matcher(n.getName());
            if (m.find()) {
                layerIds.add(Integer.parseInt(m.group(1)));
            }
        }
        int layers = layerIds.isEmpty() ? 0 : layerIds.last() + 1;
        if (layers == 0) {
            throw new ClipSkipUnavailable("no encoder layers (nodes named " + LAYER_PREFIX + "N/...) in the text encoder");
        }
        if (clipSkip > layers + 1) {
            throw new ClipSkipUnavailable("the text encoder has " + layers + " layers, so clip skip can be 1 to "
                    + (layers + 1) + ", not " + clipSkip);
        }
        String lastOutput = layerOutput(g, producer, layers - 1, layers);
        String chosen = existingHiddenState(g, layers + 1 - clipSkip);
        if (chosen == null) {
            chosen = layerOutput(g, producer, layers - clipSkip, layers);
        }
        // clone the norm's nodes onto the chosen state: inputs made inside the group are renamed
        Set<String> madeInside = new HashSet<>();
        norm.forEach(n -> madeInside.addAll(n.getOutputList()));
        boolean readsLast = norm.stream().anyMatch(n -> n.getInputList().contains(lastOutput));
        if (!readsLast) {
            throw new ClipSkipUnavailable("the final layer norm does not read the last layer's output " + lastOutput);
        }
        String suffix = "_clip_skip_" + clipSkip;
        GraphProto.Builder gb = g.toBuilder();
        Set<String> readInside = new HashSet<>();
        norm.forEach(n -> readInside.addAll(n.getInputList()));
        String result = null;
        for (NodeProto n : norm) {
            NodeProto.Builder c = n.toBuilder().setName(n.getName() + suffix).clearInput().clearOutput();
            for (String in : n.getInputList()) {
                c.addInput(in.equals(lastOutput) ? chosen : madeInside.contains(in) ? in + suffix : in);
            }
            for (String out : n.getOutputList()) {
                c.addOutput(out + suffix);
                if (!readInside.contains(out)) {
                    result = out + suffix; // the group's result: read by no node of the group
                }
            }
            gb.addNode(c);
        }
        if (result == null) {
            throw new ClipSkipUnavailable("cannot tell the final layer norm's result");
        }
        String name = clipSkipOutput(clipSkip);
        gb.addNode(NodeProto.newBuilder().setOpType("Identity").setName("/clip_skip/Identity" + suffix)
                .addInput(result).addOutput(name));
        TypeProto type = null;
        for (ValueInfoProto o : g.getOutputList()) {
            if (o.getName().equals("last_hidden_state")) {
                type = o.getType();
            }
        }
        ValueInfoProto.Builder out = ValueInfoProto.newBuilder().setName(name);
        if (type != null) {
            out.setType(type);
        }
        gb.addOutput(out);
        return model.toBuilder().setGraph(gb).build();
    }

    /** An output {@code hidden_states.N} the export already has (output_hidden_states=True), or null. */
    private static String existingHiddenState(GraphProto g, int index) {
        for (ValueInfoProto o : g.getOutputList()) {
            Matcher m = HIDDEN_STATES.matcher(o.getName());
            if (m.matches() && Integer.parseInt(m.group(1)) == index) {
                return o.getName();
            }
        }
        return null;
    }

    /**
     * The output of layer {@code i} (-1: the embeddings, layer 0's input): the residual sum made inside
     * {@code layers.i} and read by {@code layers.i+1}, or by the final norm after the last layer.
     */
    private static String layerOutput(GraphProto g, Map<String, NodeProto> producer, int i, int layers) {
        String readerPrefix = i + 1 < layers ? LAYER_PREFIX + (i + 1) + "/" : FINAL_NORM_PREFIX;
        Set<String> candidates = new java.util.LinkedHashSet<>();
        for (NodeProto n : g.getNodeList()) {
            if (!n.getName().startsWith(readerPrefix)) {
                continue;
            }
            for (String in : n.getInputList()) {
                NodeProto p = producer.get(in);
                if (p == null) {
                    continue; // an initializer or a graph input
                }
                boolean fromLayer = i >= 0 ? p.getName().startsWith(LAYER_PREFIX + i + "/")
                        : !p.getName().startsWith(LAYER_PREFIX) && !p.getName().startsWith(FINAL_NORM_PREFIX)
                        && !p.getOpType().equals("Constant");
                if (fromLayer) {
                    candidates.add(in);
                }
            }
        }
        if (candidates.size() > 1) { // shapes or masks passed along too: the residual stream is an Add
            candidates.removeIf(c -> !producer.get(c).getOpType().equals("Add"));
        }
        if (candidates.size() != 1) {
            throw new ClipSkipUnavailable("cannot find the output of " + (i < 0 ? "the embeddings" : "layer " + i)
                    + " (read by " + readerPrefix + "...): " + (candidates.isEmpty() ? "none" : candidates));
        }
        return candidates.iterator().next();
    }
}
