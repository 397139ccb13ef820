package io.jdiffusion.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
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
    private volatile String provider;
    private volatile String fallbackReason;

    public OnnxRuntime(Device requested) {
        this.env = OrtEnvironment.getEnvironment();
        this.requested = requested;
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

    /** The provider sessions run on: {@code CUDA} or {@code CPU} (known after the first session). */
    public String provider() {
        return provider == null ? (requested == Device.CPU ? "CPU" : "unknown until a model loads") : provider;
    }

    /** Why CUDA is not used although it was asked for (or auto), or null. */
    public String fallbackReason() {
        return fallbackReason;
    }

    /** Opens a session on the chosen provider, falling back to CPU once with a one-line reason. */
    public OrtSession open(Path modelFile) throws OrtException {
        if (requested == Device.AUTO && provider == null && !nvidiaDriverPresent()) {
            provider = "CPU"; // auto on a machine without an NVIDIA driver: don't make ONNX Runtime log CUDA errors
            fallbackReason = "no NVIDIA driver found (/proc/driver/nvidia/version)";
            LOG.info("no NVIDIA GPU found, using the CPU execution provider");
        }
        if (requested != Device.CPU && !"CPU".equals(provider)) {
            try {
                OrtSession.SessionOptions cuda = baseOptions();
                cuda.addCUDA(0);
                OrtSession s = env.createSession(modelFile.toString(), cuda);
                provider = "CUDA";
                return s;
            } catch (OrtException | RuntimeException | LinkageError e) {
                if (provider == null) {
                    fallbackReason = oneLine(e);
                    LOG.warn("CUDA execution provider unavailable, using CPU: {}", fallbackReason);
                }
                provider = "CPU";
            }
        }
        provider = "CPU";
        return env.createSession(modelFile.toString(), baseOptions());
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

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
