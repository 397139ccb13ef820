package io.jdiffusion.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jdiffusion.api.cuda.CudaOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * {@code bench}: UNet speed on this machine, in one run. Times the toy world's UNet and a synthetic UNet of
 * Stable Diffusion 1.5's size ({@link SyntheticUnet}) at the same image size, on the CPU and, where it loads,
 * on CUDA; prints ms per UNet call, sampling steps per second (one step is one call with a batch of 2, the
 * unconditional and conditional halves of classifier-free guidance), the ratios between them, the process's
 * peak resident memory, and a JSON summary as the last line. Speed is measured here, never in tests.
 */
final class BenchCommand {
    static final Set<String> VALUED = Set.of("device", "cuda-option", "calls", "warmup", "size", "unet-width");
    static final Set<String> FLAGS = Set.of("debug", "no-synthetic");
    /** One sampling step with classifier-free guidance: the UNet sees the negative and the positive prompt. */
    static final int BATCH = 2;

    private final PrintStream out;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final CudaOptions cuda;
    private final int calls;
    private final int warmup;
    private final int latent;
    private final List<Map<String, Object>> results = new ArrayList<>();
    /** The largest VmRSS sampled, in kB (see the peak in {@link #bench}). */
    private long maxRssKb;

    private BenchCommand(PrintStream out, CudaOptions cuda, int calls, int warmup, int latent) {
        this.out = out;
        this.cuda = cuda;
        this.calls = calls;
        this.warmup = warmup;
        this.latent = latent;
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, VALUED, FLAGS);
        String device = a.choice("device", "auto", Launch.DEVICES);
        CudaOptions cuda = Launch.cudaOptions(a);
        int calls = atLeast(a, "calls", 5, 1);
        int warmup = atLeast(a, "warmup", 1, 0);
        int size = atLeast(a, "size", 512, 64);
        if (size % 64 != 0) throw new UsageException("--size must be a multiple of 64 (three 2x downsamplings of the latents), got " + size);
        int width = atLeast(a, "unet-width", 320, 32);
        if (width % 32 != 0) throw new UsageException("--unet-width must be a multiple of 32 (GroupNorm's 32 groups), got " + width);
        return new BenchCommand(System.out, cuda, calls, warmup, size / 8).bench(device, size, width, !a.has("no-synthetic"));
    }

    private static int atLeast(Args a, String name, int dflt, int min) throws UsageException {
        Integer v = a.integer(name);
        if (v == null) return dflt;
        if (v < min) throw new UsageException("--" + name + " must be " + min + " or more, got " + v);
        return v;
    }

    private int bench(String device, int size, int width, boolean synthetic) throws Exception {
        List<String> providers = new ArrayList<>();
        if (!device.equals("cuda")) providers.add("CPU");
        String cudaProblem = null;
        if (!device.equals("cpu")) {
            cudaProblem = cudaProblem();
            if (cudaProblem == null) providers.add(0, "CUDA");
            if (device.equals("cuda")) providers.add("CPU"); // the ratio needs both, measured in this run
        }
        out.printf(Locale.ROOT, "jdiffusion bench: %dx%d images (latents %dx%d), %d timed UNet calls after %d warm-up, batch %d"
                + " per call (classifier-free guidance: one call = one sampling step)%n", size, size, latent, latent, calls, warmup, BATCH);
        if (cudaProblem != null) {
            out.println("CUDA: unavailable, " + cudaProblem);
        } else if (!device.equals("cpu")) {
            out.println("CUDA: loads" + (cuda.isEmpty() ? "" : " (options " + cuda + ")"));
        }

        Path toy = Launch.toyWorld().resolve("unet/model.onnx");
        out.println("toy world UNet: " + toy);
        for (String p : providers) time("toy-world", toy, p, 0);

        if (synthetic) {
            Path dir = Files.createTempDirectory("sd-bench-unet-");
            try {
                long t0 = System.nanoTime();
                SyntheticUnet.Built u = SyntheticUnet.write(dir, width, latent);
                double flopsPerCall = 2 * u.macsPerImage() * BATCH;
                out.printf(Locale.ROOT, "synthetic SD-1.5-shaped UNet (width %d): %.1f M parameters (%.2f GB float32), %.1f GFLOP"
                        + " per image, %.1f GFLOP per call; built in %.1f s%n", width, u.parameters() / 1e6,
                        u.parameters() * 4 / 1e9, flopsPerCall / BATCH / 1e9, flopsPerCall / 1e9, (System.nanoTime() - t0) / 1e9);
                for (String p : providers) time("synthetic-sd15", u.model(), p, flopsPerCall);
            } finally {
                deleteTree(dir);
            }
        }
        printRatios(providers);
        // Linux updates VmHWM lazily (per-thread RSS counters are folded in later), so a VmRSS sample taken
        // above can exceed it: the peak is the larger of the two
        long peakKb = Math.max(procStatusKb("VmHWM"), maxRssKb);
        out.printf(Locale.ROOT, "peak RSS %.2f GB (VmHWM)%n", peakKb / 1048576.0);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("size", size);
        summary.put("batch", BATCH);
        summary.put("calls", calls);
        summary.put("results", results);
        summary.put("peak_rss_mb", peakKb / 1024);
        if (cudaProblem != null) summary.put("cuda_unavailable", cudaProblem);
        out.println(new ObjectMapper().writeValueAsString(summary));
        return device.equals("cuda") && cudaProblem != null ? 1 : 0;
    }

    /** Null when the CUDA provider can be appended (its library and CUDA's load), else why not, in one line. */
    private String cudaProblem() {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            addCuda(o);
            return null;
        } catch (OrtException | RuntimeException | LinkageError e) {
            return CudaOptions.failureReason(e);
        }
    }

    private void addCuda(OrtSession.SessionOptions o) throws OrtException {
        try (OrtCUDAProviderOptions c = new OrtCUDAProviderOptions(cuda.deviceId())) {
            for (Map.Entry<String, String> e : cuda.values().entrySet()) c.add(e.getKey(), e.getValue());
            o.addCUDA(c);
        }
    }

    private void time(String model, Path file, String provider, double flopsPerCall) throws OrtException {
        long t0 = System.nanoTime();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (provider.equals("CUDA")) addCuda(o);
            try (OrtSession s = env.createSession(file.toString(), o)) {
                double loadMs = (System.nanoTime() - t0) / 1e6;
                Map<String, OnnxTensor> in = inputs(s);
                try {
                    for (int i = 0; i < warmup; i++) call(s, in);
                    double total = 0;
                    double min = Double.MAX_VALUE;
                    for (int i = 0; i < calls; i++) {
                        long c0 = System.nanoTime();
                        call(s, in);
                        double ms = (System.nanoTime() - c0) / 1e6;
                        total += ms;
                        min = Math.min(min, ms);
                    }
                    double mean = total / calls;
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("model", model);
                    r.put("provider", provider);
                    r.put("load_ms", round(loadMs));
                    r.put("ms_per_call", round(mean));
                    r.put("min_ms_per_call", round(min));
                    r.put("steps_per_s", round(1000 / mean));
                    String tflops = "";
                    if (flopsPerCall > 0) {
                        r.put("tflops", round(flopsPerCall / (mean / 1000) / 1e12));
                        tflops = String.format(Locale.ROOT, "   %.2f TFLOP/s", flopsPerCall / (mean / 1000) / 1e12);
                    }
                    long rssKb = procStatusKb("VmRSS");
                    maxRssKb = Math.max(maxRssKb, rssKb);
                    r.put("rss_mb", rssKb / 1024);
                    results.add(r);
                    out.printf(Locale.ROOT, "  %-4s  load %8.0f ms   UNet %9.2f ms/call (min %.2f)   %8.3f steps/s%s%n",
                            provider, loadMs, mean, min, 1000 / mean, tflops);
                } finally {
                    in.values().forEach(OnnxTensor::close);
                }
            }
        }
    }

    private static void call(OrtSession s, Map<String, OnnxTensor> in) throws OrtException {
        try (OrtSession.Result r = s.run(in)) {
            r.get(0); // outputs are copied out of ONNX Runtime (and off the GPU) before the call counts as done
        }
    }

    /** The UNet's inputs in their declared types and shapes, batch {@link #BATCH}, latents latent x latent. */
    private Map<String, OnnxTensor> inputs(OrtSession s) throws OrtException {
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(0);
        try {
            for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
                TensorInfo info = (TensorInfo) e.getValue().getInfo();
                long[] shape = info.getShape().clone();
                for (int i = 0; i < shape.length; i++) {
                    if (shape[i] > 0) continue;
                    shape[i] = i == 0 ? BATCH : e.getKey().equals("sample") && i >= 2 ? latent : SyntheticUnet.TOKENS;
                }
                int n = 1;
                for (long d : shape) n *= (int) d;
                in.put(e.getKey(), tensor(info.type, shape, n, e.getKey().equals("timestep") ? 500 : Double.NaN, random));
            }
            return in;
        } catch (OrtException | RuntimeException ex) {
            in.values().forEach(OnnxTensor::close);
            throw ex;
        }
    }

    private OnnxTensor tensor(OnnxJavaType type, long[] shape, int n, double fixed, SplittableRandom random) throws OrtException {
        switch (type) {
            case INT64 -> {
                long[] v = new long[n];
                java.util.Arrays.fill(v, (long) (Double.isNaN(fixed) ? 0 : fixed));
                return OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape);
            }
            case INT32 -> {
                int[] v = new int[n];
                java.util.Arrays.fill(v, (int) (Double.isNaN(fixed) ? 0 : fixed));
                return OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
            }
            case FLOAT -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = Double.isNaN(fixed) ? (float) random.nextGaussian() : (float) fixed;
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(v), shape);
            }
            default -> throw new IllegalStateException("bench feeds float32 UNets (and int timesteps), not " + type);
        }
    }

    private void printRatios(List<String> providers) {
        List<String> lines = new ArrayList<>();
        for (String p : providers) {
            Double toy = msPerCall("toy-world", p);
            Double syn = msPerCall("synthetic-sd15", p);
            if (toy != null && syn != null) {
                lines.add(String.format(Locale.ROOT, "synthetic SD-1.5 UNet / toy world on %s: %.1fx the time per call", p, syn / toy));
            }
        }
        for (String m : List.of("toy-world", "synthetic-sd15")) {
            Double cpu = msPerCall(m, "CPU");
            Double gpu = msPerCall(m, "CUDA");
            if (cpu != null && gpu != null) {
                lines.add(String.format(Locale.ROOT, "%s: CUDA is %.1fx as fast as the CPU", m, cpu / gpu));
            }
        }
        if (!lines.isEmpty()) {
            out.println("ratios (measured in this run):");
            lines.forEach(l -> out.println("  " + l));
        }
    }

    private Double msPerCall(String model, String provider) {
        for (Map<String, Object> r : results) {
            if (r.get("model").equals(model) && r.get("provider").equals(provider)) return (Double) r.get("ms_per_call");
        }
        return null;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** A {@code kB} line of /proc/self/status (VmRSS, VmHWM), 0 where there is no /proc. */
    static long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: no figure
        }
        return 0;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
