package io.jdiffusion.toyworld;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** One default toy world per test JVM, with ONNX Runtime sessions over it and a plain DDIM sampler. */
final class ToyFixture {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static ToyFixture instance;

    final Path dir;
    final long writeMillis;
    final ToyTokenizer tokenizer;
    final OrtSession text, unet, vaeEncoder, vaeDecoder;
    final int width;

    private ToyFixture(Path dir, ToyWorldOptions o) throws IOException, OrtException {
        this.dir = dir;
        long t0 = System.nanoTime();
        ToyWorld.write(dir, o);
        writeMillis = (System.nanoTime() - t0) / 1_000_000;
        tokenizer = ToyTokenizer.load(dir.resolve("tokenizer"));
        width = o.hiddenWidth();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        text = ENV.createSession(dir.resolve("text_encoder/model.onnx").toString(), so);
        unet = ENV.createSession(dir.resolve("unet/model.onnx").toString(), so);
        vaeEncoder = ENV.createSession(dir.resolve("vae_encoder/model.onnx").toString(), so);
        vaeDecoder = ENV.createSession(dir.resolve("vae_decoder/model.onnx").toString(), so);
    }

    static synchronized ToyFixture get() {
        if (instance == null) {
            try {
                Path root = Files.createTempDirectory("toy-world-test");
                instance = new ToyFixture(root.resolve("toy"), ToyWorldOptions.defaults());
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        }
        return instance;
    }

    static void deleteTree(Path root) {
        try (var s = Files.walk(root)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Text states [B, S, W] for the given prompts, each padded to 77. */
    float[] encode(String... prompts) throws OrtException {
        int s = ToyTokenizer.MODEL_MAX_LENGTH;
        int[] ids = new int[prompts.length * s];
        for (int i = 0; i < prompts.length; i++) System.arraycopy(tokenizer.encodePadded(prompts[i]), 0, ids, i * s, s);
        return encodeIds(ids, prompts.length, s);
    }

    float[] encodeIds(int[] ids, int b, int s) throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(ENV, IntBuffer.wrap(ids), new long[] {b, s});
             OrtSession.Result r = text.run(Map.of("input_ids", t))) {
            return floats((OnnxTensor) r.get("last_hidden_state").get());
        }
    }

    /** One UNet call. */
    float[] unet(float[] x, int b, int h, int w, float[] timestep, float[] ehs, int s) throws OrtException {
        try (OnnxTensor xs = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {b, 4, h, w});
             OnnxTensor ts = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(timestep), new long[] {timestep.length});
             OnnxTensor es = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(ehs), new long[] {ehs.length / ((long) s * width), s, width});
             OrtSession.Result r = unet.run(Map.of("sample", xs, "timestep", ts, "encoder_hidden_states", es))) {
            return floats((OnnxTensor) r.get("out_sample").get());
        }
    }

    /** VAE decoder on UNSCALED latents [B,4,h,w] -> [B,3,8h,8w]. */
    float[] decode(float[] z, int b, int h, int w) throws OrtException {
        try (OnnxTensor zs = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(z), new long[] {b, 4, h, w});
             OrtSession.Result r = vaeDecoder.run(Map.of("latent_sample", zs))) {
            return floats((OnnxTensor) r.get("sample").get());
        }
    }

    /** VAE encoder on images [B,3,H,W] in [-1,1] -> UNSCALED latents. */
    float[] encodeImage(float[] img, int b, int h, int w) throws OrtException {
        try (OnnxTensor xs = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(img), new long[] {b, 3, h, w});
             OrtSession.Result r = vaeEncoder.run(Map.of("sample", xs))) {
            return floats((OnnxTensor) r.get("latent_sample").get());
        }
    }

    static float[] floats(OnnxTensor t) {
        FloatBuffer fb = t.getFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    /**
     * txt2img with a plain DDIM loop (SD 1.5 betas, leading spacing, steps_offset 1, eta 0) and classifier-free
     * guidance (uncond = empty prompt, one batch of 2). Returns the decoded image [3, height, width] in [-1, 1].
     */
    float[] generate(String prompt, int imageW, int imageH, long seed, int steps, double guidance) throws OrtException {
        int h = imageH / 8, w = imageW / 8, n = 4 * h * w;
        float[] ac = NoiseSchedule.alphasCumprod();
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        float[] ehs = encode("", prompt);
        int ratio = NoiseSchedule.TRAIN_TIMESTEPS / steps;
        float[] pair = new float[2 * n];
        for (int i = steps - 1; i >= 0; i--) {
            int t = i * ratio + 1;
            int prev = t - ratio;
            System.arraycopy(x, 0, pair, 0, n);
            System.arraycopy(x, 0, pair, n, n);
            float[] eps2 = unet(pair, 2, h, w, new float[] {t, t}, ehs, ToyTokenizer.MODEL_MAX_LENGTH);
            double a = ac[t], aPrev = prev >= 0 ? ac[prev] : ac[0];
            for (int j = 0; j < n; j++) {
                double eps = eps2[j] + guidance * (eps2[n + j] - eps2[j]);
                double x0 = (x[j] - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
                x[j] = (float) (Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps);
            }
        }
        for (int j = 0; j < n; j++) x[j] = (float) (x[j] / ToyVae.SCALING_FACTOR);
        return decode(x, 1, h, w);
    }

    /**
     * txt2img with an Euler (k-diffusion style) loop over fractional timesteps linspace(999, 0, steps): the UNet gets
     * x / sqrt(sigma^2 + 1) and a fractional t, as diffusers' EulerDiscreteScheduler feeds it. {@code scaleInput}
     * false leaves out that input scaling (a typical sampler bug). Returns the decoded image [3, H, W].
     */
    float[] generateEuler(String prompt, int imageW, int imageH, long seed, int steps, double guidance, boolean scaleInput)
            throws OrtException {
        int h = imageH / 8, w = imageW / 8, n = 4 * h * w;
        double[] ts = new double[steps];
        double[] sig = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            ts[i] = 999.0 * (steps - 1 - i) / (steps - 1);
            sig[i] = NoiseSchedule.sigmaAt(ts[i]);
        }
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * sig[0]);
        float[] ehs = encode("", prompt);
        float[] pair = new float[2 * n];
        for (int i = 0; i < steps; i++) {
            float scale = scaleInput ? (float) (1 / Math.sqrt(sig[i] * sig[i] + 1)) : 1f;
            for (int j = 0; j < n; j++) pair[j] = pair[n + j] = x[j] * scale;
            float[] eps2 = unet(pair, 2, h, w, new float[] {(float) ts[i]}, ehs, ToyTokenizer.MODEL_MAX_LENGTH);
            for (int j = 0; j < n; j++) {
                double eps = eps2[j] + guidance * (eps2[n + j] - eps2[j]);
                x[j] = (float) (x[j] + eps * (sig[i + 1] - sig[i]));
            }
        }
        for (int j = 0; j < n; j++) x[j] = (float) (x[j] / ToyVae.SCALING_FACTOR);
        return decode(x, 1, h, w);
    }

    /** Standard deviation of the pixel values (all channels) in a square of an image [3,H,W]. */
    static double patchStd(float[] img, int imageW, int imageH, int x0, int y0, int size) {
        int plane = imageW * imageH;
        double s = 0, s2 = 0;
        int n = 0;
        for (int c = 0; c < 3; c++) {
            double cs = 0, cs2 = 0;
            for (int y = y0; y < y0 + size; y++)
                for (int x = x0; x < x0 + size; x++) {
                    double v = img[c * plane + y * imageW + x];
                    cs += v;
                    cs2 += v * v;
                }
            int m = size * size;
            s2 += Math.max(0, cs2 / m - (cs / m) * (cs / m));
            n++;
        }
        return Math.sqrt(s2 / n);
    }

    /** The world colour of pixel (px, py) of an image [3,H,W] in [-1,1]. */
    static String colourAt(float[] img, int imageW, int imageH, int px, int py) {
        int plane = imageW * imageH;
        int[] rgb = new int[3];
        for (int c = 0; c < 3; c++) {
            double v = (img[c * plane + py * imageW + px] + 1) * 127.5;
            rgb[c] = (int) Math.round(Math.max(0, Math.min(255, v)));
        }
        return World.nearestColour(rgb[0], rgb[1], rgb[2]);
    }
}
