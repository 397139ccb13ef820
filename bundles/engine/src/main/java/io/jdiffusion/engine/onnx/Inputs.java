package io.jdiffusion.engine.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Map;

/**
 * Makes input tensors in the type a session declares (float32/float16, int32/int64) from the
 * float32/long data the pipeline keeps, and reads outputs back to float32. The loop itself
 * always stays in float32; conversion happens only at this boundary.
 */
public final class Inputs {
    private Inputs() {
    }

    /** The declared type and shape of an input (-1 for dynamic dimensions). */
    public static TensorInfo info(OrtSession session, String input) {
        Map<String, NodeInfo> inputs;
        try {
            inputs = session.getInputInfo();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot read model inputs: " + e.getMessage(), e);
        }
        NodeInfo n = inputs.get(input);
        if (n == null) {
            throw new IllegalStateException("model input '" + input + "' not found; inputs are " + inputs.keySet());
        }
        return (TensorInfo) n.getInfo();
    }

    /** The declared type and shape of an output (-1 for dynamic dimensions). */
    public static TensorInfo outputInfo(OrtSession session, String output) {
        Map<String, NodeInfo> outputs;
        try {
            outputs = session.getOutputInfo();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot read model outputs: " + e.getMessage(), e);
        }
        NodeInfo n = outputs.get(output);
        if (n == null) {
            throw new IllegalStateException("model output '" + output + "' not found; outputs are " + outputs.keySet());
        }
        return (TensorInfo) n.getInfo();
    }

    public static OnnxJavaType type(OrtSession session, String input) {
        return info(session, input).type;
    }

    /** Floating data as the declared float type. */
    public static OnnxTensor floats(OrtEnvironment env, OnnxJavaType type, float[] data, long[] shape)
            throws OrtException {
        switch (type) {
            case FLOAT:
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
            case FLOAT16: {
                ByteBuffer buf = ByteBuffer.allocateDirect(data.length * 2).order(ByteOrder.nativeOrder());
                ShortBuffer sb = buf.asShortBuffer();
                for (float f : data) {
                    sb.put(Half.fromFloat(f));
                }
                return OnnxTensor.createTensor(env, buf, shape, OnnxJavaType.FLOAT16);
            }
            case DOUBLE: {
                double[] d = new double[data.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = data[i];
                }
                return OnnxTensor.createTensor(env, java.nio.DoubleBuffer.wrap(d), shape);
            }
            case INT64: {
                long[] l = new long[data.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (long) data[i]; // truncation, as numpy's astype(int64) in diffusers' ONNX pipeline
                }
                return OnnxTensor.createTensor(env, LongBuffer.wrap(l), shape);
            }
            case INT32: {
                int[] l = new int[data.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (int) data[i];
                }
                return OnnxTensor.createTensor(env, IntBuffer.wrap(l), shape);
            }
            default:
                throw new IllegalStateException("unsupported input type " + type);
        }
    }

    /** Integer ids as the declared integer type. */
    public static OnnxTensor ids(OrtEnvironment env, OnnxJavaType type, long[] ids, long[] shape) throws OrtException {
        switch (type) {
            case INT64:
                return OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
            case INT32: {
                int[] i32 = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    i32[i] = Math.toIntExact(ids[i]);
                }
                return OnnxTensor.createTensor(env, IntBuffer.wrap(i32), shape);
            }
            default:
                throw new IllegalStateException("input_ids must be int32 or int64, the model declares " + type);
        }
    }

    /** A float output (float32 or float16) as float32. */
    public static float[] readFloats(OnnxValue value) throws OrtException {
        OnnxTensor t = (OnnxTensor) value;
        TensorInfo info = t.getInfo();
        if (info.type == OnnxJavaType.FLOAT) {
            FloatBuffer fb = t.getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
        if (info.type == OnnxJavaType.FLOAT16) {
            ShortBuffer sb = t.getShortBuffer();
            float[] out = new float[sb.remaining()];
            for (int i = 0; i < out.length; i++) {
                out[i] = Half.toFloat(sb.get(i));
            }
            return out;
        }
        throw new IllegalStateException("expected a float output, got " + info.type);
    }

    /** Output by name, else the first output. */
    public static OnnxValue output(OrtSession.Result result, String name) {
        return result.get(name).orElseGet(() -> result.get(0));
    }

    public static void closeAll(Map<String, OnnxTensor> inputs) {
        for (OnnxTensor t : inputs.values()) {
            t.close();
        }
    }
}
