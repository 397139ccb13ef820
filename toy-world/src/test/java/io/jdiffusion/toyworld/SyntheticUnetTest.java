package io.jdiffusion.toyworld;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticUnetTest {
    @TempDir
    Path tmp;

    /**
     * At width 320 the graph has SD 1.5's size: diffusers' UNet2DConditionModel for SD 1.5 has 859.52 M
     * parameters, and BK-SDM (Kim et al. 2023, table 1) counts 339 G multiply-adds for one 64x64 latent in
     * its convolutions and linear layers; the attention products (QK^T and weights x V), which that count
     * leaves out, add 2 x n x m x c per attention on top.
     */
    @Test
    void fullWidthHasStableDiffusion15sSize() throws Exception {
        SyntheticUnet.Built u = SyntheticUnet.count(320, 64);
        assertEquals(859.52e6, u.parameters(), 859.52e6 * 0.01, "parameters: " + u.parameters());
        // transformers: 5 at 64x64 (320 ch), 5 at 32x32 (640), 5 at 16x16 (1280), 1 at 8x8 (1280)
        double attention = 0;
        int[][] levels = {{64 * 64, 320, 5}, {32 * 32, 640, 5}, {16 * 16, 1280, 5}, {8 * 8, 1280, 1}};
        for (int[] l : levels) {
            attention += l[2] * (2.0 * l[0] * l[0] * l[1] + 2.0 * l[0] * 77 * l[1]);
        }
        assertEquals(339e9, u.macsPerImage() - attention, 339e9 * 0.02, "MACs per image without attention products: "
                + (u.macsPerImage() - attention));
    }

    @Test
    void aNarrowOneRunsOnOnnxRuntimeWithTheExportsInputsAndOutput() throws Exception {
        SyntheticUnet.Built u = SyntheticUnet.write(tmp, 32, 8);
        long bytes = Files.size(tmp.resolve("weights.pb")); // every weight but the norms' inline scales and shifts
        assertTrue(bytes <= u.parameters() * 4 && bytes > u.parameters() * 4 * 0.95, bytes + " bytes for " + u.parameters());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(u.model().toString(), new OrtSession.SessionOptions());
             OnnxTensor sample = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[2 * 4 * 8 * 8]), new long[] {2, 4, 8, 8});
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {500}), new long[] {1});
             OnnxTensor text = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[2 * 77 * 768]), new long[] {2, 77, 768});
             OrtSession.Result r = s.run(Map.of("sample", sample, "timestep", t, "encoder_hidden_states", text))) {
            float[][][][] out = (float[][][][]) r.get("out_sample").get().getValue();
            assertEquals(2, out.length);
            assertEquals(4, out[0].length);
            assertEquals(8, out[0][0].length);
            for (float v : out[1][3][7]) assertTrue(Float.isFinite(v), "finite output");
        }
    }
}
