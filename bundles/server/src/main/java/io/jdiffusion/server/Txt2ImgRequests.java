package io.jdiffusion.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.InvalidRequestException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The JSON body of {@code POST /api/v1/txt2img} as a {@link GenerationRequest}. Only JSON types are
 * checked here (a field of the wrong type is named in the error); ranges are the engine's business.
 * Unknown fields become {@link GenerationRequest#params()} (sampler parameters such as {@code eta}).
 */
final class Txt2ImgRequests {
    static final Set<String> KNOWN = Set.of("prompt", "negative_prompt", "sampler", "schedule", "steps",
            "cfg_scale", "seed", "width", "height", "batch_size", "model");

    private Txt2ImgRequests() {
    }

    static GenerationRequest parse(String mode, byte[] body) {
        return fromJson(mode, readObject(body));
    }

    static JsonNode readObject(byte[] body) {
        if (body == null || body.length == 0) {
            throw new InvalidRequestException("body", "expected a JSON object, got an empty body");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("body", "malformed JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new InvalidRequestException("body", "unreadable body: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidRequestException("body", "expected a JSON object, got "
                    + (root == null || root.isMissingNode() ? "nothing" : describe(root)));
        }
        return root;
    }

    static GenerationRequest fromJson(String mode, JsonNode o) {
        Map<String, Object> params = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            if (!KNOWN.contains(e.getKey()) && !e.getValue().isNull()) {
                params.put(e.getKey(), toJava(e.getValue()));
            }
        }
        return new GenerationRequest(mode,
                string(o, "prompt"),
                string(o, "negative_prompt"),
                string(o, "sampler"),
                string(o, "schedule"),
                integer(o, "steps"),
                number(o, "cfg_scale"),
                seed(o, "seed"),
                integer(o, "width"),
                integer(o, "height"),
                integer(o, "batch_size"),
                string(o, "model"),
                params);
    }

    static String string(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw wrongType(field, "a string", n);
        }
        return n.textValue();
    }

    static Integer integer(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber()) {
            throw wrongType(field, "an integer", n);
        }
        BigDecimal d = n.decimalValue();
        try {
            return d.intValueExact();
        } catch (ArithmeticException e) {
            throw new InvalidRequestException(field, "must be an integer in the 32-bit range, got " + n.asText());
        }
    }

    static Double number(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber()) {
            throw wrongType(field, "a number", n);
        }
        return n.doubleValue();
    }

    /** A seed as the decimal string {@link GenerationRequest} wants: a JSON integer or a string of digits. */
    static String seed(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isNumber()) {
            try {
                return n.decimalValue().toBigIntegerExact().toString();
            } catch (ArithmeticException e) {
                throw new InvalidRequestException(field, "must be a whole number (or -1 for random), got " + n.asText());
            }
        }
        if (n.isTextual()) {
            String s = n.textValue().strip();
            if (s.isEmpty()) {
                return null;
            }
            try {
                return new BigInteger(s).toString();
            } catch (NumberFormatException e) {
                throw new InvalidRequestException(field, "must be a whole number (or -1 for random), got \"" + s + "\"");
            }
        }
        throw wrongType(field, "a number or a string of digits", n);
    }

    /** Plain Java value of a JSON value: String, Integer/Long/BigInteger, Double, Boolean, List, Map. */
    static Object toJava(JsonNode n) {
        return Json.MAPPER.convertValue(n, Object.class);
    }

    private static InvalidRequestException wrongType(String field, String expected, JsonNode n) {
        return new InvalidRequestException(field, "must be " + expected + ", got " + describe(n));
    }

    static String describe(JsonNode n) {
        JsonNodeType t = n.getNodeType();
        String shown = n.isContainerNode() ? "" : " " + abbreviate(n.toString());
        return switch (t) {
            case STRING -> "a string" + shown;
            case NUMBER -> "a number" + shown;
            case BOOLEAN -> "a boolean" + shown;
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> t.name().toLowerCase();
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
