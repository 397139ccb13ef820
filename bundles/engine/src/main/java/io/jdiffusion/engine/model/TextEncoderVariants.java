package io.jdiffusion.engine.model;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.engine.onnx.OnnxRuntime;
import io.jdiffusion.engine.onnx.TextEncoderGraph;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The text encoder rebuilt for a request: with textual-inversion rows appended to its token table
 * and/or with a CLIP-skip output ({@link TextEncoderGraph}). Rebuilding parses and re-serialises the
 * whole graph, so the latest variant is kept and reused while requests ask for the same rows and clip
 * skip (the embeddings folder rarely changes); a different one replaces it, closing the old session.
 */
final class TextEncoderVariants implements AutoCloseable {
    /** What a session was built for. */
    private record Key(int clipSkip, float[][] rows) {
        boolean same(int skip, float[][] r) {
            return clipSkip == skip && Arrays.deepEquals(rows, r);
        }
    }

    /** A built variant: the session and the output holding the states to use. */
    record Variant(OrtSession session, String output) {
    }

    private final Path modelFile;
    private final OnnxRuntime runtime;
    private Key key;
    private Variant variant;
    private int vocabularySize = -2;

    TextEncoderVariants(Path modelFile, OnnxRuntime runtime) {
        this.modelFile = modelFile;
        this.runtime = runtime;
    }

    /** Rows in the token table, read once from the graph; -1 when it has none we can find. */
    synchronized int vocabularySize() {
        if (vocabularySize == -2) {
            try {
                vocabularySize = TextEncoderGraph.tableShape(TextEncoderGraph.read(modelFile)).rows();
            } catch (IOException | RuntimeException e) {
                vocabularySize = -1;
            }
        }
        return vocabularySize;
    }

    /** Runs {@code use} on the variant for these rows and clip skip, building it first when needed. */
    synchronized <T> T with(int clipSkip, float[][] rows, java.util.function.Function<Variant, T> use) {
        if (key == null || !key.same(clipSkip, rows)) {
            Variant built = build(clipSkip, rows);
            close();
            key = new Key(clipSkip, deepCopy(rows));
            variant = built;
        }
        return use.apply(variant);
    }

    private Variant build(int clipSkip, float[][] rows) {
        ModelProto m;
        try {
            m = TextEncoderGraph.read(modelFile);
            m = TextEncoderGraph.appendTokenRows(m, rows, modelFile.getParent());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the text encoder " + modelFile + ": " + e.getMessage(), e);
        }
        String output = "last_hidden_state";
        if (clipSkip > 1) {
            try {
                m = TextEncoderGraph.addClipSkipOutput(m, clipSkip);
            } catch (TextEncoderGraph.ClipSkipUnavailable e) {
                throw new InvalidRequestException("clip_skip", "cannot use clip skip " + clipSkip
                        + " on this model's text encoder: " + e.getMessage());
            }
            output = TextEncoderGraph.clipSkipOutput(clipSkip);
        }
        try {
            return new Variant(runtime.open(m.toByteArray(), modelFile.getParent()), output);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot open the rebuilt text encoder: " + e.getMessage(), e);
        }
    }

    private static float[][] deepCopy(float[][] rows) {
        float[][] c = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            c[i] = rows[i].clone();
        }
        return c;
    }

    @Override
    public synchronized void close() {
        if (variant != null) {
            try {
                variant.session().close();
            } catch (OrtException ignored) {
                // closing is best effort
            }
            variant = null;
            key = null;
        }
    }
}
