package io.jdiffusion.engine.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.engine.onnx.Inputs;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of SDXL's text encoders as Optimum exports them ({@code output_hidden_states=True}): the hidden states SDXL
 * conditions on are the PENULTIMATE layer's ({@code hidden_states.(L-1)} of {@code hidden_states.0..L}; diffusers'
 * {@code hidden_states[-2]}, Optimum's {@code outputs[-2]}), and {@code text_embeds} (text_encoder_2's projected
 * pooled output) is the UNet's {@code text_embeds}. An export without hidden_states outputs falls back to
 * {@code last_hidden_state}.
 */
final class TextEncoderSession implements TextModel {
    private static final Logger LOG = LoggerFactory.getLogger(TextEncoderSession.class);
    private static final Pattern HIDDEN = Pattern.compile("hidden_states\\.(\\d+)");

    private final OrtEnvironment env;
    private final OrtSession session;
    private final Path tokenizerDir;
    private final String hiddenOutput;
    private final String pooledOutput;
    private final int width;
    private final int pooledWidth;
    private final int maxLength;
    private final boolean batches;
    private final boolean zerosForEmptyPrompt;
    private final TextModel second;
    /** This encoder rebuilt with textual-inversion rows; null when it cannot take them. */
    private final TextEncoderVariants variants;

    TextEncoderSession(OrtEnvironment env, OrtSession session, Path tokenizerDir, int configWidth,
                       boolean zerosForEmptyPrompt, TextModel second) throws OrtException {
        this(env, session, tokenizerDir, configWidth, zerosForEmptyPrompt, second, null);
    }

    /** As above; {@code variants} rebuilds this encoder's graph with extra token rows (textual inversion). */
    TextEncoderSession(OrtEnvironment env, OrtSession session, Path tokenizerDir, int configWidth,
                       boolean zerosForEmptyPrompt, TextModel second, TextEncoderVariants variants)
            throws OrtException {
        this.variants = variants;
        this.env = env;
        this.session = session;
        this.tokenizerDir = tokenizerDir;
        this.zerosForEmptyPrompt = zerosForEmptyPrompt;
        this.second = second;
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        int top = -1;
        for (String name : outputs.keySet()) {
            Matcher m = HIDDEN.matcher(name);
            if (m.matches()) {
                top = Math.max(top, Integer.parseInt(m.group(1)));
            }
        }
        this.hiddenOutput = top >= 1 ? "hidden_states." + (top - 1) : "last_hidden_state";
        if (top < 1) { // exported without output_hidden_states: the closest we can get, and not what SDXL was trained on
            LOG.warn("the text encoder for {} has no hidden_states.N outputs; SDXL conditions on the penultimate"
                    + " layer, using last_hidden_state instead (re-export with output_hidden_states)", tokenizerDir);
        }
        this.pooledOutput = outputs.containsKey("text_embeds") ? "text_embeds" : null;
        long[] hs = ((TensorInfo) outputs.getOrDefault(hiddenOutput, outputs.values().iterator().next()).getInfo())
                .getShape();
        this.width = hs.length == 3 && hs[2] > 0 ? (int) hs[2] : configWidth;
        if (width <= 0) {
            throw new IllegalStateException("cannot tell the width of " + hiddenOutput + " of the text encoder for "
                    + tokenizerDir + ": no fixed last dimension and no hidden_size in its config.json");
        }
        long[] ps = pooledOutput == null ? new long[0] : ((TensorInfo) outputs.get(pooledOutput).getInfo()).getShape();
        this.pooledWidth = pooledOutput == null ? 0 : ps.length == 2 && ps[1] > 0 ? (int) ps[1] : width;
        long[] ids = Inputs.info(session, "input_ids").getShape();
        this.maxLength = ids.length == 2 && ids[1] > 0 ? (int) ids[1] : 77;
        this.batches = ids.length == 2 && ids[0] < 0;
    }

    /** Which output gives the hidden states (for messages and tests). */
    String hiddenOutput() {
        return hiddenOutput;
    }

    @Override
    public Path tokenizerDir() {
        return tokenizerDir;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public int hiddenWidth() {
        return width;
    }

    @Override
    public int pooledWidth() {
        return pooledWidth;
    }

    @Override
    public TextModel secondEncoder() {
        return second;
    }

    @Override
    public boolean zerosForEmptyPrompt() {
        return zerosForEmptyPrompt;
    }

    @Override
    public float[] encode(long[] ids, int sequences) {
        return encodeWithPooled(ids, sequences).hidden();
    }

    @Override
    public int vocabularySize() {
        return variants == null ? -1 : variants.vocabularySize();
    }

    @Override
    public float[] encode(long[] ids, int sequences, float[][] extraRows) {
        return encodeWithPooled(ids, sequences, extraRows).hidden();
    }

    /**
     * With the rows appended to this encoder's own token table (768 wide for text_encoder, 1280 for
     * text_encoder_2, as A1111 gives each its clip_l / clip_g vectors). The rebuilt graph keeps the outputs,
     * so the same penultimate state and text_embeds are read; its pooling skips the new ids
     * ({@link io.jdiffusion.engine.onnx.TextEncoderGraph#appendTokenRows}), so text_embeds stays at the EOS.
     */
    @Override
    public Output encodeWithPooled(long[] ids, int sequences, float[][] extraRows) {
        if (extraRows == null || extraRows.length == 0) {
            return encodeWithPooled(ids, sequences);
        }
        if (variants == null) {
            throw new UnsupportedOperationException("this text encoder cannot take textual-inversion embeddings");
        }
        return variants.with(1, extraRows, v -> run(v.session(), ids, sequences));
    }

    @Override
    public Output encodeWithPooled(long[] ids, int sequences) {
        return run(session, ids, sequences);
    }

    private Output run(OrtSession session, long[] ids, int sequences) {
        if (ids.length != (long) sequences * maxLength) {
            throw new IllegalArgumentException("expected " + sequences + " x " + maxLength + " ids, got " + ids.length);
        }
        if (!batches && sequences > 1) { // fixed batch of 1: one row at a time
            float[] hidden = new float[sequences * maxLength * width];
            float[] pooled = pooledOutput == null ? null : new float[sequences * pooledWidth];
            for (int s = 0; s < sequences; s++) {
                Output one = run(session, Arrays.copyOfRange(ids, s * maxLength, (s + 1) * maxLength), 1);
                System.arraycopy(one.hidden(), 0, hidden, s * one.hidden().length, one.hidden().length);
                if (pooled != null) {
                    System.arraycopy(one.pooled(), 0, pooled, s * pooledWidth, pooledWidth);
                }
            }
            return new Output(hidden, pooled);
        }
        OnnxJavaType idsType = Inputs.type(session, "input_ids");
        try (OnnxTensor input = Inputs.ids(env, idsType, ids, new long[] {sequences, maxLength});
             OrtSession.Result r = session.run(Map.of("input_ids", input))) {
            float[] h = Inputs.readFloats(r.get(hiddenOutput).orElseThrow());
            if (h.length != sequences * maxLength * width) {
                throw new IllegalStateException("text encoder output " + hiddenOutput + " has " + h.length
                        + " values, expected " + sequences + "x" + maxLength + "x" + width);
            }
            float[] p = pooledOutput == null ? null : Inputs.readFloats(r.get(pooledOutput).orElseThrow());
            if (p != null && p.length != sequences * pooledWidth) {
                throw new IllegalStateException("text encoder output " + pooledOutput + " has " + p.length
                        + " values, expected " + sequences + "x" + pooledWidth);
            }
            return new Output(h, p);
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder failed: " + e.getMessage(), e);
        }
    }
}
