package io.jdiffusion.conditioning.embeddings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors layout: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data,
 * offsets counted from the end of the header.
 */
final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {
    }

    static Map<String, Tensor> read(byte[] file) {
        if (file.length < 8) {
            throw new EmbeddingFormatException("not a safetensors file: " + file.length + " bytes");
        }
        long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength <= 0 || headerLength > file.length - 8) {
            throw new EmbeddingFormatException("not a safetensors file: header length " + headerLength
                    + " does not fit in " + file.length + " bytes");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new EmbeddingFormatException("safetensors header is not JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new EmbeddingFormatException("safetensors header is not a JSON object");
        }
        int dataStart = 8 + (int) headerLength;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            out.put(e.getKey(), tensor(e.getKey(), e.getValue(), file, dataStart));
        }
        return out;
    }

    private static Tensor tensor(String name, JsonNode info, byte[] file, int dataStart) {
        String dtype = info.path("dtype").asText("");
        int size = Dtypes.size(dtype);
        if (size < 0) {
            throw new EmbeddingFormatException("tensor '" + name + "' has dtype '" + dtype
                    + "'; embeddings are read from F32, F16, BF16 or F64 (and integer tensors beside them)");
        }
        JsonNode shapeNode = info.path("shape");
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            count *= shape[i];
        }
        JsonNode offsets = info.path("data_offsets");
        long begin = offsets.path(0).asLong(-1);
        long end = offsets.path(1).asLong(-1);
        if (begin < 0 || end < begin || dataStart + end > file.length || end - begin != count * size) {
            throw new EmbeddingFormatException("tensor '" + name + "' has data_offsets [" + begin + ", " + end
                    + "] that do not hold " + count + " " + dtype + " values in a " + file.length + "-byte file");
        }
        return new Tensor(shape, Dtypes.toFloats(dtype, file, dataStart + (int) begin, (int) count));
    }
}
