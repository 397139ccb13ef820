package io.jdiffusion.engine.model;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The declared inputs and outputs of an ONNX graph (name, element type, dims), read straight from the protobuf
 * file without creating a session: the reader walks ModelProto.graph and skips nodes and initializers (seeking
 * over them), so describing a folder whose UNet embeds gigabytes of weights reads only a few kilobytes.
 * Used to describe model folders that carry no config.json files.
 */
public final class OnnxGraphInputs {
    /** ONNX TensorProto.DataType values. */
    public static final int FLOAT = 1;
    public static final int FLOAT16 = 10;

    /**
     * One declared value.
     *
     * @param elemType TensorProto.DataType (1 float, 10 float16, 6 int32, 7 int64)
     * @param dims     each fixed size, or -1 for a symbolic / unknown dimension
     */
    public record Value(String name, int elemType, long[] dims) {
        /** The dimension {@code i} if declared and fixed, else -1. */
        public long dim(int i) {
            return i < dims.length ? dims[i] : -1;
        }
    }

    private final Map<String, Value> inputs;
    private final Map<String, Value> outputs;

    private OnnxGraphInputs(Map<String, Value> inputs, Map<String, Value> outputs) {
        this.inputs = inputs;
        this.outputs = outputs;
    }

    public Map<String, Value> inputs() {
        return inputs;
    }

    public Map<String, Value> outputs() {
        return outputs;
    }

    /** Reads the graph's declared inputs and outputs; an unreadable file is an IOException naming it. */
    public static OnnxGraphInputs read(Path modelFile) throws IOException {
        Map<String, Value> in = new LinkedHashMap<>();
        Map<String, Value> out = new LinkedHashMap<>();
        try (Reader r = new Reader(new BufferedInputStream(Files.newInputStream(modelFile), 1 << 16))) {
            while (!r.atEnd()) {
                long key = r.varint();
                int field = (int) (key >>> 3);
                int wire = (int) (key & 7);
                if (field == 7 && wire == 2) { // ModelProto.graph
                    long end = r.position + r.varint();
                    while (r.position < end) {
                        long gk = r.varint();
                        int gf = (int) (gk >>> 3);
                        int gw = (int) (gk & 7);
                        if ((gf == 11 || gf == 12) && gw == 2) { // GraphProto.input / output: small, parse them
                            Value v = valueInfo(r.bytes((int) r.varint()));
                            (gf == 11 ? in : out).put(v.name(), v);
                        } else {
                            r.skip(gw);
                        }
                    }
                } else {
                    r.skip(wire);
                }
            }
        } catch (EOFException e) {
            throw new IOException(modelFile + " is truncated or not an ONNX model", e);
        }
        return new OnnxGraphInputs(in, out);
    }

    /** ValueInfoProto: 1 name, 2 type (TypeProto: 1 tensor_type: 1 elem_type, 2 shape: repeated 1 dim). */
    private static Value valueInfo(byte[] b) throws IOException {
        Reader r = new Reader(new java.io.ByteArrayInputStream(b));
        String name = "";
        int elem = 0;
        List<Long> dims = new ArrayList<>();
        while (!r.atEnd()) {
            long k = r.varint();
            int f = (int) (k >>> 3);
            if (f == 1 && (k & 7) == 2) {
                name = new String(r.bytes((int) r.varint()), StandardCharsets.UTF_8);
            } else if (f == 2 && (k & 7) == 2) {
                Reader type = new Reader(new java.io.ByteArrayInputStream(r.bytes((int) r.varint())));
                while (!type.atEnd()) {
                    long tk = type.varint();
                    if ((tk >>> 3) == 1 && (tk & 7) == 2) { // tensor_type
                        Reader tensor = new Reader(new java.io.ByteArrayInputStream(type.bytes((int) type.varint())));
                        while (!tensor.atEnd()) {
                            long ek = tensor.varint();
                            if ((ek >>> 3) == 1 && (ek & 7) == 0) {
                                elem = (int) tensor.varint();
                            } else if ((ek >>> 3) == 2 && (ek & 7) == 2) {
                                shape(tensor.bytes((int) tensor.varint()), dims);
                            } else {
                                tensor.skip((int) (ek & 7));
                            }
                        }
                    } else {
                        type.skip((int) (tk & 7));
                    }
                }
            } else {
                r.skip((int) (k & 7));
            }
        }
        long[] d = new long[dims.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = dims.get(i);
        }
        return new Value(name, elem, d);
    }

    private static void shape(byte[] b, List<Long> dims) throws IOException {
        Reader r = new Reader(new java.io.ByteArrayInputStream(b));
        while (!r.atEnd()) {
            long k = r.varint();
            if ((k >>> 3) == 1 && (k & 7) == 2) { // Dimension: 1 dim_value, 2 dim_param
                Reader dim = new Reader(new java.io.ByteArrayInputStream(r.bytes((int) r.varint())));
                long value = -1;
                while (!dim.atEnd()) {
                    long dk = dim.varint();
                    if ((dk >>> 3) == 1 && (dk & 7) == 0) {
                        value = dim.varint();
                    } else {
                        dim.skip((int) (dk & 7));
                    }
                }
                dims.add(value);
            } else {
                r.skip((int) (k & 7));
            }
        }
    }

    /** Protobuf wire-format reading with a position, skipping without reading where the stream can seek. */
    private static final class Reader implements AutoCloseable {
        private final InputStream in;
        private long position;
        private int peeked = -2;

        Reader(InputStream in) {
            this.in = in;
        }

        boolean atEnd() throws IOException {
            if (peeked == -2) {
                peeked = in.read();
            }
            return peeked < 0;
        }

        private int read() throws IOException {
            int b;
            if (peeked != -2) {
                b = peeked;
                peeked = -2;
            } else {
                b = in.read();
            }
            if (b < 0) {
                throw new EOFException();
            }
            position++;
            return b;
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = read();
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw new IOException("malformed varint");
        }

        byte[] bytes(int n) throws IOException {
            byte[] b = new byte[n];
            if (n == 0) {
                return b;
            }
            b[0] = (byte) read(); // takes the peeked byte, if any
            int got = in.readNBytes(b, 1, n - 1);
            if (got < n - 1) {
                throw new EOFException();
            }
            position += got;
            return b;
        }

        void skip(int wireType) throws IOException {
            switch (wireType) {
                case 0 -> varint();
                case 1 -> skipBytes(8);
                case 2 -> skipBytes(varint());
                case 5 -> skipBytes(4);
                default -> throw new IOException("unsupported protobuf wire type " + wireType);
            }
        }

        private void skipBytes(long n) throws IOException {
            if (n == 0) {
                return;
            }
            read(); // the peeked byte, if any, then seek over the rest
            long left = n - 1;
            while (left > 0) {
                long s = in.skip(left);
                if (s <= 0) {
                    if (in.read() < 0) {
                        throw new EOFException();
                    }
                    s = 1;
                }
                left -= s;
            }
            position += n - 1;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
