package io.jdiffusion.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import io.jdiffusion.api.cuda.CudaOptions;
import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime environment for the whole process and the choice of execution provider.
 * Every session of every model is made here, so they all share the environment and the
 * provider decision (CUDA when asked for and loadable, else CPU with the reason in one line).
 */
public final class OnnxRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(OnnxRuntime.class);

    /** What the user asked for. */
    public enum Device { AUTO, CPU, CUDA }

    private final OrtEnvironment env;
    private final Device requested;
    private final CudaOptions cudaOptions;
    private volatile String provider;
    private volatile String fallbackReason;

    public OnnxRuntime(Device requested) {
        this(requested, CudaOptions.none());
    }

    /** With the CUDA provider options (used only when CUDA is used). */
    public OnnxRuntime(Device requested, CudaOptions cudaOptions) {
        this.env = OrtEnvironment.getEnvironment();
        this.requested = requested;
        this.cudaOptions = cudaOptions;
    }

    public static Device parseDevice(String value) {
        if (value == null || value.isBlank()) {
            return Device.AUTO;
        }
        try {
            return Device.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("device must be auto, cpu or cuda, not " + value);
        }
    }

    public OrtEnvironment env() {
        return env;
    }

    /**
     * The provider sessions run on: {@code CUDA} or {@code CPU}. Before the first session it is found by
     * appending the CUDA provider to empty session options, which is where a missing CUDA library shows.
     */
    public String provider() {
        if (provider == null) {
            probe();
        }
        return provider;
    }

    /** The CUDA options sessions get when they run on CUDA. */
    public CudaOptions cudaOptions() {
        return cudaOptions;
    }

    private synchronized void probe() {
        if (provider != null) {
            return;
        }
        if (requested == Device.CPU) {
            provider = "CPU";
            return;
        }
        if (noDriverForAuto()) {
            return;
        }
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            addCuda(o);
            provider = "CUDA"; // the library loads; a session that still fails falls back in open()
        } catch (OrtException | RuntimeException | LinkageError e) {
            fallBack(e);
        }
    }

    /** Auto on a machine without an NVIDIA driver: CPU without asking ONNX Runtime (it would log CUDA errors). */
    private boolean noDriverForAuto() {
        if (requested == Device.AUTO && !nvidiaDriverPresent()) {
            provider = "CPU";
            fallbackReason = "no NVIDIA driver found (/proc/driver/nvidia/version)";
            LOG.info("no NVIDIA GPU found, using the CPU execution provider");
            return true;
        }
        return false;
    }

    private synchronized void fallBack(Throwable e) {
        if (fallbackReason == null) { // the first failure says why; CUDA is not tried again
            fallbackReason = reason(e);
            LOG.warn("CUDA execution provider unavailable, using CPU: {}", fallbackReason);
        }
        provider = "CPU";
    }

    private void addCuda(OrtSession.SessionOptions o) throws OrtException {
        OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(cudaOptions.deviceId());
        try {
            for (var e : cudaOptions.values().entrySet()) {
                cuda.add(e.getKey(), e.getValue());
            }
            o.addCUDA(cuda);
        } finally {
            cuda.close();
        }
    }

    /** Why CUDA is not used although it was asked for (or auto), or null. */
    public String fallbackReason() {
        return fallbackReason;
    }

    /** Opens a session on the chosen provider, falling back to CPU once with a one-line reason. */
    public OrtSession open(Path modelFile) throws OrtException {
        synchronized (this) {
            if (requested == Device.AUTO && provider == null) {
                noDriverForAuto();
            }
        }
        if (requested != Device.CPU && !"CPU".equals(provider)) {
            try (OrtSession.SessionOptions cuda = baseOptions()) {
                addCuda(cuda);
                OrtSession s = env.createSession(modelFile.toString(), cuda);
                provider = "CUDA";
                return s;
            } catch (OrtException | RuntimeException | LinkageError e) {
                fallBack(e);
            }
        }
        provider = "CPU";
        try (OrtSession.SessionOptions cpu = baseOptions()) {
            return env.createSession(modelFile.toString(), cpu);
        }
    }

    /**
     * Opens a session from edited model bytes (a text encoder with extra token rows or outputs) on the
     * provider already chosen; initializers kept in external files are found in {@code externalDataFolder},
     * the original model's folder.
     */
    public OrtSession open(byte[] model, Path externalDataFolder) throws OrtException {
        OrtSession.SessionOptions o = baseOptions();
        o.addConfigEntry("session.model_external_initializers_file_folder_path", externalDataFolder.toString());
        if ("CUDA".equals(provider)) {
            o.addCUDA(0);
        }
        return env.createSession(model, o);
    }

    private static boolean nvidiaDriverPresent() {
        return java.nio.file.Files.exists(Path.of("/proc/driver/nvidia/version"))
                || java.nio.file.Files.exists(Path.of("/dev/nvidiactl"));
    }

    private static OrtSession.SessionOptions baseOptions() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return o;
    }

    /** One line a person can act on (see {@link CudaOptions#failureReason}). */
    static String reason(Throwable e) {
        return CudaOptions.failureReason(e);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
