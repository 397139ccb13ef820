package io.jdiffusion.runtime;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * An ONNX UNet with Stable Diffusion 1.5's shape and random weights, for measuring speed only. It follows
 * diffusers' {@code UNet2DConditionModel} as SD 1.5 configures it: block channels 320/640/1280/1280 at
 * 64/32/16/8 latents, two ResNet blocks per down level and three per up level, a transformer (GroupNorm,
 * proj_in, self-attention, cross-attention to the 77x768 text states, GEGLU feed-forward, proj_out) after
 * each ResNet of the first three levels and in the middle, 8 heads, a sinusoidal timestep embedding with its
 * two linear layers. At base width 320 that is SD 1.5's 859.5 M parameters and, for one 64x64 latent,
 * 0.40 T multiply-adds (0.80 TFLOP): 339 G in convolutions and linear layers, as BK-SDM (Kim et al. 2023)
 * counts for SD 1.x's UNet, and 62 G in the attention products. {@link Built} reports what was built.
 *
 * <p>The graph has the inputs of a diffusers export ({@code sample} [B,4,H,W], {@code timestep} [1] float,
 * {@code encoder_hidden_states} [B,77,768]) and output {@code out_sample}. Weights go to an external-data
 * file beside {@code model.onnx} (3.4 GB at full width: protobuf files stop at 2 GB), written as they are
 * declared, so building takes seconds and little heap.
 */
final class SyntheticUnet {
    static final int TEXT_WIDTH = 768;
    static final int TOKENS = 77;
    private static final int HEADS = 8;
    private static final int GROUPS = 32;
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int INT64 = TensorProto.DataType.INT64_VALUE;

    private final GraphProto.Builder g = GraphProto.newBuilder().setName("synthetic_sd15_unet");
    private final FileChannel weights;
    private final String weightsName;
    private final SplittableRandom random = new SplittableRandom(1234);
    /** Uniform(-1, 1) values that every weight is cut from at a random start (drawing 860 M numbers takes long). */
    private final float[] unit = new float[1 << 20];
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
    private long offset;
    private long parameters;
    /** Multiply-adds for one image (batch row) at the latent size {@link #build} was given. */
    private double macs;
    private int counter;

    private SyntheticUnet(FileChannel weights, String weightsName) {
        this.weights = weights;
        this.weightsName = weightsName;
        for (int i = 0; i < unit.length; i++) {
            unit[i] = (float) (random.nextDouble() * 2 - 1);
        }
    }

    /** What was built: the model file, its parameter count and multiply-adds for one image at {@code latent}. */
    record Built(Path model, long parameters, double macsPerImage) {
    }

    /**
     * Writes {@code dir/model.onnx} and {@code dir/weights.pb}.
     *
     * @param base   the first block's channels (320 for SD 1.5; a multiple of 32; smaller for quick runs)
     * @param latent the latent side the MAC count is for (64 for 512x512); the graph itself takes any size
     *               divisible by 8
     */
    static Built write(Path dir, int base, int latent) throws IOException {
        if (base < 32 || base % 32 != 0) {
            throw new IllegalArgumentException("the UNet width must be a multiple of 32 (GroupNorm's groups), got " + base);
        }
        Files.createDirectories(dir);
        Path model = dir.resolve("model.onnx");
        try (FileChannel ch = FileChannel.open(dir.resolve("weights.pb"), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            SyntheticUnet u = new SyntheticUnet(ch, "weights.pb");
            u.build(base, latent);
            u.flush();
            ModelProto m = ModelProto.newBuilder().setIrVersion(8).setProducerName("jdiffusion bench")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                    .setGraph(u.g).build();
            try (OutputStream out = Files.newOutputStream(model)) {
                m.writeTo(out);
            }
            return new Built(model, u.parameters, u.macs);
        }
    }

    /** Parameters and multiply-adds of the graph {@link #write} would build, without writing anything. */
    static Built count(int base, int latent) throws IOException {
        SyntheticUnet u = new SyntheticUnet(null, "weights.pb");
        u.build(base, latent);
        return new Built(null, u.parameters, u.macs);
    }

    // ---- the network --------------------------------------------------------------------------------------

    private void build(int base, int latent) throws IOException {
        int[] ch = {base, base * 2, base * 4, base * 4};
        boolean[] attn = {true, true, true, false};
        g.addInput(valueInfo("sample", "batch", 4, "height", "width"));
        g.addInput(valueInfo("timestep", 1));
        g.addInput(valueInfo("encoder_hidden_states", "batch", TOKENS, TEXT_WIDTH));
        g.addOutput(valueInfo("out_sample", "batch", 4, "height", "width"));

        String temb = timeEmbedding(base, base * 4);
        String tembAct = silu(temb);
        int res = latent;
        String x = conv("sample", 4, base, 3, 1, res);
        java.util.ArrayDeque<String> skips = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Integer> skipCh = new java.util.ArrayDeque<>();
        skips.push(x);
        skipCh.push(base);
        int c = base;
        for (int level = 0; level < 4; level++) {
            for (int i = 0; i < 2; i++) {
                x = resnet(x, c, ch[level], tembAct, base * 4, res);
                c = ch[level];
                if (attn[level]) {
                    x = transformer(x, c, res);
                }
                skips.push(x);
                skipCh.push(c);
            }
            if (level < 3) {
                res /= 2;
                x = conv(x, c, c, 3, 2, res);
                skips.push(x);
                skipCh.push(c);
            }
        }
        x = resnet(x, c, c, tembAct, base * 4, res);
        x = transformer(x, c, res);
        x = resnet(x, c, c, tembAct, base * 4, res);
        for (int level = 3; level >= 0; level--) {
            for (int i = 0; i < 3; i++) {
                int sc = skipCh.pop();
                x = op("Concat", new String[] {x, skips.pop()}, "axis", 1);
                x = resnet(x, c + sc, ch[level], tembAct, base * 4, res);
                c = ch[level];
                if (attn[level]) {
                    x = transformer(x, c, res);
                }
            }
            if (level > 0) {
                res *= 2;
                x = op("Resize", new String[] {x, "", floats(new float[] {1, 1, 2, 2}, 4)}, "mode", "nearest");
                x = conv(x, c, c, 3, 1, res);
            }
        }
        x = silu(groupNorm(x, c));
        String out = conv(x, c, 4, 3, 1, res);
        node("Identity", "out_sample", new String[] {out});
    }

    /** Sinusoidal embedding of the timestep (diffusers' Timesteps, flip_sin_to_cos), then linear, SiLU, linear. */
    private String timeEmbedding(int dim, int embDim) throws IOException {
        int half = dim / 2;
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) {
            freq[i] = (float) Math.exp(-Math.log(10000) * i / half);
        }
        String t = op("Unsqueeze", new String[] {"timestep", longs(1)}); // [1,1]
        String arg = op("Mul", new String[] {t, floats(freq, half)}); // [1,half]
        String e = op("Concat", new String[] {op("Cos", new String[] {arg}), op("Sin", new String[] {arg})}, "axis", 1);
        String h = silu(linear(e, dim, embDim, 1));
        return linear(h, embDim, embDim, 1);
    }

    private String resnet(String x, int cin, int cout, String tembAct, int embDim, int res) throws IOException {
        String h = conv(silu(groupNorm(x, cin)), cin, cout, 3, 1, res);
        String t = linear(tembAct, embDim, cout, 1); // [1,cout]
        h = op("Add", new String[] {h, op("Reshape", new String[] {t, longs(1, cout, 1, 1)})});
        h = conv(silu(groupNorm(h, cout)), cout, cout, 3, 1, res);
        String skip = cin == cout ? x : conv(x, cin, cout, 1, 1, res);
        return op("Add", new String[] {skip, h});
    }

    private String transformer(String x, int c, int res) throws IOException {
        int n = res * res;
        String shape = op("Shape", new String[] {x});
        String h = conv(groupNorm(x, c), c, c, 1, 1, res); // proj_in
        h = op("Transpose", new String[] {op("Reshape", new String[] {h, longs(0, c, -1)})}, "perm", new long[] {0, 2, 1});
        h = op("Add", new String[] {h, attention(layerNorm(h, c), null, c, n, n)});
        h = op("Add", new String[] {h, attention(layerNorm(h, c), "encoder_hidden_states", c, n, TOKENS)});
        String ff = linear(layerNorm(h, c), c, c * 8, n); // GEGLU: half the projection gates the other half
        String[] parts = split(ff, c * 4);
        ff = op("Mul", new String[] {parts[0], gelu(parts[1])});
        h = op("Add", new String[] {h, linear(ff, c * 4, c, n)});
        h = op("Reshape", new String[] {op("Transpose", new String[] {h}, "perm", new long[] {0, 2, 1}), shape});
        return op("Add", new String[] {x, conv(h, c, c, 1, 1, res)}); // proj_out + residual
    }

    /** Multi-head attention of {@code x} [B,n,c] to itself or to the text states [B,77,768]. */
    private String attention(String x, String context, int c, int n, int m) throws IOException {
        int kvIn = context == null ? c : TEXT_WIDTH;
        String kv = context == null ? x : context;
        String q = heads(matmul(x, c, c, n), c);
        String k = heads(matmul(kv, kvIn, c, m), c);
        String v = heads(matmul(kv, kvIn, c, m), c);
        String kt = op("Transpose", new String[] {k}, "perm", new long[] {0, 1, 3, 2});
        int d = c / HEADS;
        String scores = op("Mul", new String[] {op("MatMul", new String[] {q, kt}), floats(new float[] {(float) (1 / Math.sqrt(d))}, 1)});
        String out = op("MatMul", new String[] {op("Softmax", new String[] {scores}, "axis", -1), v});
        macs += 2.0 * n * m * c; // QK^T and attention x V
        out = op("Transpose", new String[] {out}, "perm", new long[] {0, 2, 1, 3});
        out = op("Reshape", new String[] {out, longs(0, 0, c)});
        return linear(out, c, c, n);
    }

    private String heads(String x, int c) {
        String r = op("Reshape", new String[] {x, longs(0, 0, HEADS, c / HEADS)});
        return op("Transpose", new String[] {r}, "perm", new long[] {0, 2, 1, 3});
    }

    // ---- layers with weights --------------------------------------------------------------------------------

    private String conv(String x, int cin, int cout, int k, int stride, int resOut) throws IOException {
        String w = weight(new long[] {cout, cin, k, k}, cin * k * k);
        String b = weight(new long[] {cout}, cin * k * k);
        macs += (double) cout * cin * k * k * resOut * resOut;
        int p = k / 2;
        return op("Conv", new String[] {x, w, b}, "kernel_shape", new long[] {k, k}, "pads", new long[] {p, p, p, p},
                "strides", new long[] {stride, stride});
    }

    /** x [.., rows, in] times W [in, out] plus bias; {@code rows} per image, for the MAC count. */
    private String linear(String x, int in, int out, int rows) throws IOException {
        return op("Add", new String[] {matmul(x, in, out, rows), weight(new long[] {out}, in)});
    }

    private String matmul(String x, int in, int out, int rows) throws IOException {
        macs += (double) rows * in * out;
        return op("MatMul", new String[] {x, weight(new long[] {in, out}, in)});
    }

    /** GroupNorm(32) as torch exports it before opset 18: InstanceNormalization over [B, 32, -1], then scale and shift. */
    private String groupNorm(String x, int c) throws IOException {
        String shape = op("Shape", new String[] {x});
        String r = op("Reshape", new String[] {x, longs(0, GROUPS, -1)});
        String n = op("InstanceNormalization", new String[] {r, constant(GROUPS, 1f), constant(GROUPS, 0f)}, "epsilon", 1e-5f);
        String back = op("Reshape", new String[] {n, shape});
        String gamma = init(fill(c, 1f), new long[] {c, 1, 1});
        String beta = init(fill(c, 0f), new long[] {c, 1, 1});
        parameters += 2L * c;
        return op("Add", new String[] {op("Mul", new String[] {back, gamma}), beta});
    }

    private String layerNorm(String x, int c) {
        parameters += 2L * c;
        return op("LayerNormalization", new String[] {x, constant(c, 1f), constant(c, 0f)}, "axis", -1, "epsilon", 1e-5f);
    }

    private String silu(String x) {
        return op("Mul", new String[] {x, op("Sigmoid", new String[] {x})});
    }

    private String gelu(String x) {
        String erf = op("Erf", new String[] {op("Mul", new String[] {x, floats(new float[] {(float) (1 / Math.sqrt(2))}, 1)})});
        String onePlus = op("Add", new String[] {erf, floats(new float[] {1f}, 1)});
        return op("Mul", new String[] {op("Mul", new String[] {x, onePlus}), floats(new float[] {0.5f}, 1)});
    }

    private String[] split(String x, int half) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType("Split").setName("n" + counter++);
        n.addInput(x).addInput(longs(half, half));
        String a = fresh("split");
        String b = fresh("split");
        n.addOutput(a).addOutput(b);
        n.addAttribute(attr("axis", -1L));
        g.addNode(n);
        return new String[] {a, b};
    }

    // ---- tensors ----------------------------------------------------------------------------------------------

    /** A random weight, uniform in +-1/sqrt(fanIn) like torch's default init, written to the external file. */
    private String weight(long[] dims, int fanIn) throws IOException {
        long count = 1;
        for (long d : dims) {
            count *= d;
        }
        float bound = (float) (1 / Math.sqrt(fanIn));
        String name = fresh("w");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        for (long d : dims) {
            t.addDims(d);
        }
        t.addExternalData(entry("location", weightsName));
        t.addExternalData(entry("offset", Long.toString(offset)));
        t.addExternalData(entry("length", Long.toString(count * 4)));
        int at = random.nextInt(unit.length);
        for (long i = 0; weights != null && i < count; i++) {
            if (chunk.remaining() < 4) {
                flush();
            }
            chunk.putFloat(unit[at] * bound);
            at = (at + 1) & (unit.length - 1);
        }
        offset += count * 4;
        parameters += count;
        g.addInitializer(t);
        return name;
    }

    private void flush() throws IOException {
        chunk.flip();
        while (chunk.hasRemaining()) {
            weights.write(chunk);
        }
        chunk.clear();
    }

    private static StringStringEntryProto entry(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private static float[] fill(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** A 1-D constant of n equal values (norm scales and shifts: their values do not change the speed). */
    private String constant(int n, float v) {
        return init(fill(n, v), new long[] {n});
    }

    private String init(float[] data, long[] dims) {
        String name = fresh("c");
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(data);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(bb.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        g.addInitializer(t);
        return name;
    }

    private String floats(float[] data, int n) {
        return init(data, new long[] {n});
    }

    private String longs(long... v) {
        String name = fresh("i");
        ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(v);
        g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(v.length)
                .setRawData(ByteString.copyFrom(bb.array())));
        return name;
    }

    // ---- nodes ------------------------------------------------------------------------------------------------

    private String fresh(String prefix) {
        return prefix + "_" + counter++;
    }

    private String op(String type, String[] inputs, Object... attrs) {
        return node(type, fresh(type.toLowerCase(java.util.Locale.ROOT)), inputs, attrs);
    }

    private String node(String type, String output, String[] inputs, Object... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName("n" + counter++).addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        for (int i = 0; i < attrs.length; i += 2) {
            n.addAttribute(attr((String) attrs[i], attrs[i + 1]));
        }
        g.addNode(n);
        return output;
    }

    private static AttributeProto attr(String name, Object v) {
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
            for (long l : ls) {
                a.addInts(l);
            }
        } else {
            throw new IllegalArgumentException(name + ": " + v);
        }
        return a.build();
    }

    private static ValueInfoProto valueInfo(String name, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Integer i) {
                db.setDimValue(i);
            } else {
                db.setDimParam(d.toString());
            }
            shape.addDim(db);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape))).build();
    }
}
