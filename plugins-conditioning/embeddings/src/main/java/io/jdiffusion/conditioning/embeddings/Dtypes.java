package io.jdiffusion.conditioning.embeddings;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian float32 / float16 / bfloat16 / float64 bytes to float32, as files store them. */
final class Dtypes {
    private Dtypes() {
    }

    /** Bytes per element of a safetensors dtype name, or -1 when it is not a type we read. */
    static int size(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            case "F64", "I64" -> 8;
            case "I32" -> 4;
            case "I16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> -1;
        };
    }

    static float[] toFloats(String dtype, byte[] bytes, int offset, int count) {
        ByteBuffer b = ByteBuffer.wrap(bytes, offset, bytes.length - offset).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = switch (dtype) {
                case "F32" -> b.getFloat();
                case "F16" -> halfToFloat(b.getShort());
                case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                case "F64" -> (float) b.getDouble();
                case "I64" -> (float) b.getLong(); // integer tensors (old files keep their token ids as one)
                case "I32" -> (float) b.getInt();
                case "I16" -> (float) b.getShort();
                case "I8" -> (float) b.get();
                case "U8", "BOOL" -> (float) (b.get() & 0xff);
                default -> throw new EmbeddingFormatException("unsupported dtype " + dtype);
            };
        }
        return out;
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) { // inf / NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) { // zero or subnormal: mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
