package io.jdiffusion.conditioning.embeddings;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Embedding files in their real layouts: safetensors, torch.save zip, torch legacy pickle. Public, in the
 * test jar, for the engine's end-to-end tests.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** A tensor to write: its safetensors dtype, shape and values. */
    public record T(String dtype, long[] shape, float[] values) {
        public static T f32(float[][] rows) {
            return of("F32", rows);
        }

        static T of(String dtype, float[][] rows) {
            int w = rows[0].length;
            float[] v = new float[rows.length * w];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(rows[i], 0, v, i * w, w);
            }
            return new T(dtype, new long[] {rows.length, w}, v);
        }

        public static T vector(String dtype, float[] v) {
            return new T(dtype, new long[] {v.length}, v.clone());
        }

        public byte[] bytes() {
            int size = dtype.equals("F32") ? 4 : 2;
            ByteBuffer b = ByteBuffer.allocate(values.length * size).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : values) {
                switch (dtype) {
                    case "F32" -> b.putFloat(f);
                    case "F16" -> b.putShort(toHalf(f));
                    case "BF16" -> b.putShort((short) (Float.floatToIntBits(f) >>> 16));
                    default -> throw new IllegalArgumentException(dtype);
                }
            }
            return b.array();
        }

        String storageType() {
            return switch (dtype) {
                case "F32" -> "FloatStorage";
                case "F16" -> "HalfStorage";
                case "BF16" -> "BFloat16Storage";
                default -> throw new IllegalArgumentException(dtype);
            };
        }

        long[] contiguousStride() {
            long[] s = new long[shape.length];
            long acc = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                s[i] = acc;
                acc *= shape[i];
            }
            return s;
        }
    }

    /** float to binary16, round to nearest (values in tests are exactly representable or near). */
    static short toHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (exp <= 0) {
            return (short) sign; // tests use no subnormals
        }
        int h = sign | (exp << 10) | (mant >>> 13);
        if ((mant & 0x1000) != 0) {
            h++;
        }
        return (short) h;
    }

    /** safetensors: u64 LE header length, JSON header (keys in order, data_offsets from the data start), data. */
    public static void safetensors(Path file, Map<String, T> tensors, Map<String, String> metadata) throws IOException {
        StringBuilder json = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        if (metadata != null && !metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            metadata.forEach((k, v) -> json.append('"').append(k).append("\":\"").append(v).append("\","));
            json.setLength(json.length() - 1);
            json.append("},");
        }
        for (Map.Entry<String, T> e : tensors.entrySet()) {
            byte[] b = e.getValue().bytes();
            json.append('"').append(e.getKey()).append("\":{\"dtype\":\"").append(e.getValue().dtype())
                    .append("\",\"shape\":[");
            long[] shape = e.getValue().shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(data.size()).append(',').append(data.size() + b.length)
                    .append("]},");
            data.writeBytes(b);
        }
        json.setLength(json.length() - 1);
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8; // the safetensors writer pads the header with spaces to 8 bytes
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(header, 0, h, 0, header.length);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(h);
            out.write(data.toByteArray());
        }
    }

    /**
     * torch.save's zip: {@code archive/data.pkl}, {@code archive/byteorder}, {@code archive/data/KEY} per
     * storage, {@code archive/version}; entries stored, not compressed.
     */
    public static void torchZip(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                z.setMethod(ZipEntry.STORED);
                z.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                z.setCrc(crc.getValue());
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
    }

    /** A dictionary {@code {key: tensor}} pickled the way torch.save pickles it, storage keys "0", "1", ... */
    public static byte[] tensorDict(Map<String, T> tensors) {
        Pickles p = Pickles.protocol2().emptyDict().mark();
        int key = 0;
        for (Map.Entry<String, T> e : tensors.entrySet()) {
            T t = e.getValue();
            p.str(e.getKey()).tensor(t.storageType(), Integer.toString(key++), t.values().length, 0, t.shape(),
                    t.contiguousStride());
        }
        return p.setItems().stop();
    }

    /** A1111's .pt: {'string_to_token': {'*': 265}, 'string_to_param': {'*': tensor}, 'name': ..., 'step': ...}. */
    public static void a1111Pt(Path file, String name, T vectors) throws IOException {
        Pickles p = Pickles.protocol2().emptyDict().mark();
        p.str("string_to_token").emptyDict().str("*").integer(265).setItem();
        p.str("string_to_param").emptyDict().str("*")
                .tensor(vectors.storageType(), "0", vectors.values().length, 0, vectors.shape(), vectors.contiguousStride())
                .setItem();
        p.str("name").str(name);
        p.str("step").integer(3000);
        p.str("sd_checkpoint").str("81761151");
        p.str("sd_checkpoint_name").str("v1-5-pruned-emaonly");
        p.setItems();
        torchZip(file, p.stop(), Map.of("0", vectors.bytes()));
    }

    /**
     * torch's legacy (non-zip) file: pickles of the magic number, protocol 1001, sys info, the object and
     * the sorted storage keys, then per storage an int64 element count and the raw bytes.
     */
    public static void torchLegacy(Path file, Map<String, T> tensors) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] magic = {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};
        out.writeBytes(Pickles.protocol2().long1(magic).stop());
        out.writeBytes(Pickles.protocol2().integer(1001).stop());
        out.writeBytes(Pickles.protocol2().emptyDict().mark().str("protocol_version").integer(1001)
                .str("little_endian").bool(true)
                .str("type_sizes").emptyDict().mark().str("short").integer(2).str("int").integer(4).str("long").integer(4)
                .setItems().setItems().stop());
        Pickles obj = Pickles.protocol2().emptyDict().mark();
        int key = 0;
        for (Map.Entry<String, T> e : tensors.entrySet()) {
            T t = e.getValue();
            obj.str(e.getKey()).legacyTensor(t.storageType(), Integer.toString(key++), t.values().length, t.shape(),
                    t.contiguousStride());
        }
        out.writeBytes(obj.setItems().stop());
        Pickles keys = Pickles.protocol2().raw(']').mark();
        for (int k = 0; k < tensors.size(); k++) {
            keys.str(Integer.toString(k));
        }
        out.writeBytes(keys.raw('e').stop());
        for (T t : tensors.values()) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(t.values().length).array());
            out.writeBytes(t.bytes());
        }
        Files.write(file, out.toByteArray());
    }
}
