package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
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
 * declared, so building takes seconds and little heap. Nodes and small constants go through the toy world's
 * {@link Graph}; only the large weights are written here, streamed to the external file.
 */
public final class SyntheticUnet {
    public static final int TEXT_WIDTH = 768;
    public static final int TOKENS = 77;
    private static final int HEADS = 8;
    private static final int GROUPS = 32;

    private final Graph g = new Graph("synthetic_sd15_unet");
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

    private SyntheticUnet(FileChannel weights, String weightsName) {
        this.weights = weights;
        this.weightsName = weightsName;
        for (int i = 0; i < unit.length; i++) {
            unit[i] = (float) (random.nextDouble() * 2 - 1);
        }
    }

    /** What was built: the model file, its parameter count and multiply-adds for one image at {@code latent}. */
    public record Built(Path model, long parameters, double macsPerImage) {
    }

    /**
     * Writes {@code dir/model.onnx} and {@code dir/weights.pb}.
     *
     * @param base   the first block's channels (320 for SD 1.5; a multiple of 32; smaller for quick runs)
     * @param latent the latent side the MAC count is for (64 for 512x512); the graph itself takes any size
     *               divisible by 8
     */
    public static Built write(Path dir, int base, int latent) throws IOException {
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
            ModelProto m = u.g.model("synthetic SD-1.5-shaped UNet, random weights, for speed only").toBuilder()
                    .setProducerName("jdiffusion bench").build();
            try (OutputStream out = Files.newOutputStream(model)) {
                m.writeTo(out);
            }
            return new Built(model, u.parameters, u.macs);
        }
    }

    /** Parameters and multiply-adds of the graph {@link #write} would build, without writing anything. */
    public static Built count(int base, int latent) throws IOException {
        SyntheticUnet u = new SyntheticUnet(null, "weights.pb");
        u.build(base, latent);
        return new Built(null, u.parameters, u.macs);
    }

    // ---- the network --------------------------------------------------------------------------------------

    private void build(int base, int latent) throws IOException {
        int[] ch = {base, base * 2, base * 4, base * 4};
        boolean[] attn = {true, true, true, false};
        g.input("sample", Graph.FLOAT, "batch", 4, "height", "width");
        g.input("timestep", Graph.FLOAT, 1);
        g.input("encoder_hidden_states", Graph.FLOAT, "batch", TOKENS, TEXT_WIDTH);
        g.output("out_sample", Graph.FLOAT, "batch", 4, "height", "width");

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
                x = g.op("Concat", new String[] {x, skips.pop()}, "axis", 1);
                x = resnet(x, c + sc, ch[level], tembAct, base * 4, res);
                c = ch[level];
                if (attn[level]) {
                    x = transformer(x, c, res);
                }
            }
            if (level > 0) {
                res *= 2;
                x = g.op("Resize", new String[] {x, "", g.floats(1, 1, 2, 2)}, "mode", "nearest");
                x = conv(x, c, c, 3, 1, res);
            }
        }
        x = silu(groupNorm(x, c));
        String out = conv(x, c, 4, 3, 1, res);
        g.opNamed("Identity", "out_sample", new String[] {out});
    }

    /** Sinusoidal embedding of the timestep (diffusers' Timesteps, flip_sin_to_cos), then linear, SiLU, linear. */
    private String timeEmbedding(int dim, int embDim) throws IOException {
        int half = dim / 2;
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) {
            freq[i] = (float) Math.exp(-Math.log(10000) * i / half);
        }
        String t = g.op("Unsqueeze", new String[] {"timestep", g.longs(1)}); // [1,1]
        String arg = g.op("Mul", new String[] {t, g.floats(freq)}); // [1,half]
        String e = g.op("Concat", new String[] {g.op("Cos", new String[] {arg}), g.op("Sin", new String[] {arg})}, "axis", 1);
        String h = silu(linear(e, dim, embDim, 1));
        return linear(h, embDim, embDim, 1);
    }

    private String resnet(String x, int cin, int cout, String tembAct, int embDim, int res) throws IOException {
        String h = conv(silu(groupNorm(x, cin)), cin, cout, 3, 1, res);
        String t = linear(tembAct, embDim, cout, 1); // [1,cout]
        h = g.op("Add", new String[] {h, g.op("Reshape", new String[] {t, g.longs(1, cout, 1, 1)})});
        h = conv(silu(groupNorm(h, cout)), cout, cout, 3, 1, res);
        String skip = cin == cout ? x : conv(x, cin, cout, 1, 1, res);
        return g.op("Add", new String[] {skip, h});
    }

    private String transformer(String x, int c, int res) throws IOException {
        int n = res * res;
        String shape = g.op("Shape", new String[] {x});
        String h = conv(groupNorm(x, c), c, c, 1, 1, res); // proj_in
        h = g.op("Transpose", new String[] {g.op("Reshape", new String[] {h, g.longs(0, c, -1)})}, "perm", new long[] {0, 2, 1});
        h = g.op("Add", new String[] {h, attention(layerNorm(h, c), null, c, n, n)});
        h = g.op("Add", new String[] {h, attention(layerNorm(h, c), "encoder_hidden_states", c, n, TOKENS)});
        String ff = linear(layerNorm(h, c), c, c * 8, n); // GEGLU: half the projection gates the other half
        String[] parts = split(ff, c * 4);
        ff = g.op("Mul", new String[] {parts[0], gelu(parts[1])});
        h = g.op("Add", new String[] {h, linear(ff, c * 4, c, n)});
        h = g.op("Reshape", new String[] {g.op("Transpose", new String[] {h}, "perm", new long[] {0, 2, 1}), shape});
        return g.op("Add", new String[] {x, conv(h, c, c, 1, 1, res)}); // proj_out + residual
    }

    /** Multi-head attention of {@code x} [B,n,c] to itself or to the text states [B,77,768]. */
    private String attention(String x, String context, int c, int n, int m) throws IOException {
        int kvIn = context == null ? c : TEXT_WIDTH;
        String kv = context == null ? x : context;
        String q = heads(matmul(x, c, c, n), c);
        String k = heads(matmul(kv, kvIn, c, m), c);
        String v = heads(matmul(kv, kvIn, c, m), c);
        String kt = g.op("Transpose", new String[] {k}, "perm", new long[] {0, 1, 3, 2});
        int d = c / HEADS;
        String scores = g.op("Mul", new String[] {g.op("MatMul", new String[] {q, kt}), g.floats((float) (1 / Math.sqrt(d)))});
        String out = g.op("MatMul", new String[] {g.op("Softmax", new String[] {scores}, "axis", -1), v});
        macs += 2.0 * n * m * c; // QK^T and attention x V
        out = g.op("Transpose", new String[] {out}, "perm", new long[] {0, 2, 1, 3});
        out = g.op("Reshape", new String[] {out, g.longs(0, 0, c)});
        return linear(out, c, c, n);
    }

    private String heads(String x, int c) {
        String r = g.op("Reshape", new String[] {x, g.longs(0, 0, HEADS, c / HEADS)});
        return g.op("Transpose", new String[] {r}, "perm", new long[] {0, 2, 1, 3});
    }

    // ---- layers with weights --------------------------------------------------------------------------------

    private String conv(String x, int cin, int cout, int k, int stride, int resOut) throws IOException {
        String w = weight(new long[] {cout, cin, k, k}, cin * k * k);
        String b = weight(new long[] {cout}, cin * k * k);
        macs += (double) cout * cin * k * k * resOut * resOut;
        int p = k / 2;
        return g.op("Conv", new String[] {x, w, b}, "kernel_shape", new long[] {k, k}, "pads", new long[] {p, p, p, p},
                "strides", new long[] {stride, stride});
    }

    /** x [.., rows, in] times W [in, out] plus bias; {@code rows} per image, for the MAC count. */
    private String linear(String x, int in, int out, int rows) throws IOException {
        return g.op("Add", new String[] {matmul(x, in, out, rows), weight(new long[] {out}, in)});
    }

    private String matmul(String x, int in, int out, int rows) throws IOException {
        macs += (double) rows * in * out;
        return g.op("MatMul", new String[] {x, weight(new long[] {in, out}, in)});
    }

    /** GroupNorm(32) as torch exports it before opset 18: InstanceNormalization over [B, 32, -1], then scale and shift. */
    private String groupNorm(String x, int c) throws IOException {
        String shape = g.op("Shape", new String[] {x});
        String r = g.op("Reshape", new String[] {x, g.longs(0, GROUPS, -1)});
        String n = g.op("InstanceNormalization", new String[] {r, constant(GROUPS, 1f), constant(GROUPS, 0f)}, "epsilon", 1e-5f);
        String back = g.op("Reshape", new String[] {n, shape});
        String gamma = init(fill(c, 1f), new long[] {c, 1, 1});
        String beta = init(fill(c, 0f), new long[] {c, 1, 1});
        parameters += 2L * c;
        return g.op("Add", new String[] {g.op("Mul", new String[] {back, gamma}), beta});
    }

    private String layerNorm(String x, int c) {
        parameters += 2L * c;
        return g.op("LayerNormalization", new String[] {x, constant(c, 1f), constant(c, 0f)}, "axis", -1, "epsilon", 1e-5f);
    }

    private String silu(String x) {
        return g.op("Mul", new String[] {x, g.op("Sigmoid", new String[] {x})});
    }

    private String gelu(String x) {
        String erf = g.op("Erf", new String[] {g.op("Mul", new String[] {x, g.floats((float) (1 / Math.sqrt(2)))})});
        String onePlus = g.op("Add", new String[] {erf, g.floats(1f)});
        return g.op("Mul", new String[] {g.op("Mul", new String[] {x, onePlus}), g.floats(0.5f)});
    }

    private String[] split(String x, int half) {
        return g.opMulti("Split", new String[] {x, g.longs(half, half)}, 2, "axis", -1L);
    }

    // ---- tensors ----------------------------------------------------------------------------------------------

    /** A random weight, uniform in +-1/sqrt(fanIn) like torch's default init, written to the external file. */
    private String weight(long[] dims, int fanIn) throws IOException {
        long count = 1;
        for (long d : dims) {
            count *= d;
        }
        float bound = (float) (1 / Math.sqrt(fanIn));
        String name = g.fresh("w");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(Graph.FLOAT)
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
        g.initializer(t.build());
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
        return g.init(g.fresh("c"), data, dims);
    }
}
