package io.jdiffusion.conditioning.embeddings;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes pickle protocol 2 opcodes by hand, as Python's pickle (and so torch.save) emits them, so the
 * fixtures have the real byte layout without Python.
 */
final class Pickles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Pickles protocol2() {
        Pickles p = new Pickles();
        p.raw(0x80, 0x02);
        return p;
    }

    Pickles raw(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    Pickles global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    Pickles str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
        return this;
    }

    Pickles integer(long v) {
        if (v >= 0 && v < 256) {
            return raw('K', (int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }
        out.write(0x8a); // LONG1
        out.write(8);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        return this;
    }

    /** LONG1 of a little-endian two's-complement byte string (torch's magic number). */
    Pickles long1(byte[] littleEndian) {
        out.write(0x8a);
        out.write(littleEndian.length);
        out.writeBytes(littleEndian);
        return this;
    }

    Pickles mark() {
        return raw('(');
    }

    Pickles tuple() {
        return raw('t');
    }

    Pickles emptyTuple() {
        return raw(')');
    }

    Pickles emptyDict() {
        return raw('}');
    }

    Pickles setItems() {
        return raw('u');
    }

    Pickles setItem() {
        return raw('s');
    }

    Pickles reduce() {
        return raw('R');
    }

    Pickles binPersId() {
        return raw('Q');
    }

    Pickles bool(boolean b) {
        return raw(b ? 0x88 : 0x89);
    }

    Pickles none() {
        return raw('N');
    }

    Pickles ints(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return tuple();
    }

    /**
     * A tensor as torch pickles it: {@code _rebuild_tensor_v2(persistent storage, offset, size, stride,
     * False, OrderedDict())}; the storage id {@code ('storage', torch.<type>, key, 'cpu', numel)}.
     */
    Pickles tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple().binPersId();
        integer(offset);
        ints(size);
        ints(stride);
        bool(false);
        global("collections", "OrderedDict").emptyTuple().reduce();
        tuple();
        return reduce();
    }

    /** The legacy format's storage id has a sixth element, the view metadata (None). */
    Pickles legacyTensor(String storageType, String key, long numel, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).none().tuple().binPersId();
        integer(0);
        ints(size);
        ints(stride);
        bool(false);
        global("collections", "OrderedDict").emptyTuple().reduce();
        tuple();
        return reduce();
    }

    byte[] stop() {
        out.write('.');
        return out.toByteArray();
    }
}
