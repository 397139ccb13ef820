package io.jdiffusion.conditioning.embeddings;

import io.jdiffusion.conditioning.embeddings.SafeUnpickler.StorageRef;
import io.jdiffusion.conditioning.embeddings.SafeUnpickler.TensorRef;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A {@code torch.save} file, either layout:
 * <ul>
 * <li>zip (torch 1.6+): {@code PREFIX/data.pkl} (the pickle, persistent ids
 * {@code ('storage', torch.FloatStorage, '0', 'cpu', numel)}), one entry {@code PREFIX/data/KEY} of raw
 * little-endian bytes per storage, and {@code PREFIX/version};</li>
 * <li>legacy: five pickles in a row (magic number, protocol version, system info, the object, the sorted
 * storage keys), then each storage as an int64 element count followed by its bytes.</li>
 * </ul>
 * The object pickle goes through {@link SafeUnpickler}; tensors come back as {@link Tensor}s.
 */
final class TorchFile {
    /** torch.serialization.MAGIC_NUMBER, the legacy format's first pickle. */
    static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    static final int LEGACY_PROTOCOL = 1001;

    private TorchFile() {
    }

    static Object read(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) {
                throw new EmbeddingFormatException("not a PyTorch file: too short");
            }
        }
        boolean zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        return zip ? readZip(file) : readLegacy(file);
    }

    private static Object readZip(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String prefix = null;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith("data.pkl") && (name.equals("data.pkl") || name.endsWith("/data.pkl"))) {
                    prefix = name.substring(0, name.length() - "data.pkl".length());
                    break;
                }
            }
            if (prefix == null) {
                throw new EmbeddingFormatException("a zip without data.pkl is not a PyTorch file");
            }
            Object root;
            try (InputStream in = zip.getInputStream(zip.getEntry(prefix + "data.pkl"))) {
                root = unpickle(in);
            }
            String dataPrefix = prefix + "data/";
            return materialize(root, ref -> {
                ZipEntry entry = zip.getEntry(dataPrefix + ref.key());
                if (entry == null) {
                    throw new EmbeddingFormatException("storage " + ref.key() + " is missing from the archive");
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    return in.readAllBytes();
                } catch (IOException ex) {
                    throw new EmbeddingFormatException("cannot read storage " + ref.key() + ": " + ex.getMessage(), ex);
                }
            });
        }
    }

    private static Object readLegacy(Path file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            Object magic = unpickle(in);
            if (!(magic instanceof Number n) || !new BigInteger(n.toString()).equals(LEGACY_MAGIC)) {
                throw new EmbeddingFormatException("not a PyTorch file: no torch magic number");
            }
            Object protocol = unpickle(in);
            if (!(protocol instanceof Number p) || p.intValue() != LEGACY_PROTOCOL) {
                throw new EmbeddingFormatException("unsupported legacy PyTorch protocol " + protocol);
            }
            unpickle(in); // system info: byte order and type sizes; torch writes little-endian
            Object root = unpickle(in);
            Object keys = unpickle(in);
            if (!(keys instanceof List<?> keyList)) {
                throw new EmbeddingFormatException("legacy PyTorch file without its storage key list");
            }
            Map<String, StorageRef> refs = new HashMap<>();
            collectStorages(root, refs);
            Map<String, byte[]> data = new HashMap<>();
            DataInputStream din = new DataInputStream(in);
            for (Object k : keyList) {
                String key = String.valueOf(k);
                byte[] countBytes = din.readNBytes(8);
                if (countBytes.length < 8) {
                    throw new EmbeddingFormatException("legacy PyTorch file ends before storage " + key);
                }
                long count = ByteBuffer.wrap(countBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
                StorageRef ref = refs.get(key);
                int size = ref == null ? 4 : Dtypes.size(ref.dtype());
                if (count < 0 || count * size > Integer.MAX_VALUE) {
                    throw new EmbeddingFormatException("storage " + key + " claims " + count + " elements");
                }
                byte[] bytes = din.readNBytes((int) (count * size));
                if (bytes.length < count * size) {
                    throw new EmbeddingFormatException("legacy PyTorch file ends inside storage " + key);
                }
                data.put(key, bytes);
            }
            return materialize(root, ref -> {
                byte[] b = data.get(ref.key());
                if (b == null) {
                    throw new EmbeddingFormatException("storage " + ref.key() + " is missing from the file");
                }
                return b;
            });
        }
    }

    private static Object unpickle(InputStream in) throws IOException {
        try {
            return new SafeUnpickler().load(in);
        } catch (EmbeddingFormatException e) {
            throw e;
        } catch (RuntimeException e) { // Pyrolite's PickleException, a malformed stream
            throw new EmbeddingFormatException("not a readable pickle: " + e.getMessage(), e);
        }
    }

    private static void collectStorages(Object o, Map<String, StorageRef> out) {
        if (o instanceof TensorRef t) {
            out.put(t.storage().key(), t.storage());
        } else if (o instanceof Map<?, ?> m) {
            m.values().forEach(v -> collectStorages(v, out));
        } else if (o instanceof SafeUnpickler.ModuleState s) {
            collectStorages(s.state, out);
        } else if (o instanceof List<?> l) {
            l.forEach(v -> collectStorages(v, out));
        } else if (o instanceof Object[] a) {
            for (Object v : a) {
                collectStorages(v, out);
            }
        }
    }

    /** The object with every {@link TensorRef} replaced by its {@link Tensor}, and ParameterDicts by their parameters. */
    private static Object materialize(Object o, java.util.function.Function<StorageRef, byte[]> storages) {
        if (o instanceof TensorRef t) {
            return tensor(t, storages.apply(t.storage()));
        }
        if (o instanceof SafeUnpickler.ModuleState s) {
            Object params = s.state.get("_parameters");
            return materialize(params == null ? Map.of() : params, storages);
        }
        if (o instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, materialize(v, storages)));
            return out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(v -> out.add(materialize(v, storages)));
            return out;
        }
        return o;
    }

    /** A strided view of the storage, copied out in row-major order. */
    static Tensor tensor(TensorRef t, byte[] storage) {
        String dtype = t.storage().dtype();
        int elem = Dtypes.size(dtype);
        long available = storage.length / elem;
        long count = 1;
        for (long d : t.size()) {
            count *= d;
        }
        if (t.size().length != t.stride().length) {
            throw new EmbeddingFormatException("tensor size and stride differ in rank");
        }
        float[] all = Dtypes.toFloats(dtype, storage, 0, (int) available);
        float[] out = new float[(int) count];
        long[] index = new long[t.size().length];
        for (int i = 0; i < count; i++) {
            long pos = t.offset();
            for (int d = 0; d < index.length; d++) {
                pos += index[d] * t.stride()[d];
            }
            if (pos < 0 || pos >= available) {
                throw new EmbeddingFormatException("tensor reaches element " + pos + " of a storage of " + available);
            }
            out[i] = all[(int) pos];
            for (int d = index.length - 1; d >= 0; d--) { // next index, last dimension fastest
                if (++index[d] < t.size()[d]) {
                    break;
                }
                index[d] = 0;
            }
        }
        return new Tensor(t.size(), out);
    }

    /** For tests and diagnostics: unpickle bytes with the same allow-list. */
    static Object unpickle(byte[] pickle) throws IOException {
        return unpickle(new ByteArrayInputStream(pickle));
    }
}
