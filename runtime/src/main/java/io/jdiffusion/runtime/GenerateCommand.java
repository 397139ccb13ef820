package io.jdiffusion.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jdiffusion.api.Progress;
import io.jdiffusion.api.service.GenerationRequest;
import io.jdiffusion.api.service.GenerationResult;
import io.jdiffusion.api.service.GenerationService;
import io.jdiffusion.api.service.InvalidRequestException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code generate}: boots the runtime without HTTP, waits for the engine's {@link GenerationService},
 * runs one request and writes the PNG(s).
 */
final class GenerateCommand {
    static final Set<String> VALUED = ServeCommand.union(Launch.VALUED, Set.of(
            "prompt", "negative", "sampler", "schedule", "steps", "cfg", "seed", "width", "height", "batch",
            "mode", "param", "out", "timeout", "init-image", "strength", "resize-mode", "mask", "mask-blur", "depth-map",
            "clip-skip"));

    private GenerateCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, VALUED, Launch.FLAGS);
        String prompt = a.require("prompt");
        a.require("out");
        Path out = a.path("out");
        Integer timeout = a.integer("timeout");
        Map<String, Object> params = params(a.all("param"));
        String mode = imageInputs(a, params);
        Integer clipSkip = a.integer("clip-skip");
        if (clipSkip != null) params.put("clip_skip", clipSkip); // the engine checks the range
        GenerationRequest request = new GenerationRequest(mode, prompt, a.get("negative"),
                a.get("sampler"), a.get("schedule"), a.integer("steps"), a.number("cfg"), a.get("seed"),
                a.integer("width"), a.integer("height"), a.integer("batch"), null, params);
        Map<String, String> p = Launch.properties(a, false);

        try (SdRuntime runtime = Launch.boot(a, p)) {
            Thread hook = new Thread(runtime::stop, "sd-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            int seconds = timeout == null ? 60 : timeout;
            GenerationService engine = runtime.awaitService(GenerationService.class, Duration.ofSeconds(seconds));
            if (engine == null) {
                System.err.println("error: the engine (" + GenerationService.class.getName() + ") did not start within "
                        + seconds + " s; is sd-engine in the bundles folder, and did it start (see the messages above)?");
                return 1;
            }
            GenerationResult result;
            try {
                result = engine.generate(request, progress());
            } catch (RuntimeException e) {
                InvalidRequestException invalid = invalid(e);
                if (invalid == null) throw e;
                System.err.println("error: " + invalid.getMessage());
                return 2;
            }
            List<Path> written = write(result.images(), out);
            System.out.println("wrote " + String.join(", ", written.stream().map(Path::toString).toList())
                    + " " + new ObjectMapper().writeValueAsString(oneLineInfo(result.info())));
            return 0;
        }
    }

    /**
     * {@code --init-image FILE}, {@code --mask FILE} (sent base64, as the HTTP API takes them),
     * {@code --strength}, {@code --mask-blur}, {@code --resize-mode} into the mode inputs; the mode:
     * {@code --mode}, else inpaint with an init image and a mask, depth2img with an init image and a depth map
     * ({@code --depth-map FILE}), img2img with an init image alone.
     */
    static String imageInputs(Args a, Map<String, Object> params) throws UsageException {
        Path init = a.path("init-image");
        Path mask = a.path("mask");
        putImage(params, "init_image", "init-image", init);
        putImage(params, "mask", "mask", mask);
        Path depthMap = a.path("depth-map");
        putImage(params, "depth_map", "depth-map", depthMap);
        Double strength = a.number("strength");
        if (strength != null) params.put("strength", strength);
        Double blur = a.number("mask-blur");
        if (blur != null) params.put("mask_blur", blur);
        String resize = a.get("resize-mode");
        if (resize != null) params.put("resize_mode", resize);
        String mode = a.get("mode");
        if (mode != null || init == null) return mode;
        return mask != null ? "inpaint" : depthMap != null ? "depth2img" : "img2img";
    }

    private static void putImage(Map<String, Object> params, String name, String option, Path file) throws UsageException {
        if (file == null) return;
        try {
            params.put(name, java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UsageException("--" + option + ": cannot read " + file + ": " + e.getMessage());
        }
    }

    private static InvalidRequestException invalid(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidRequestException i) return i;
            if (t.getCause() == t) break;
        }
        return null;
    }

    /** {@code --param name=value}: numbers and booleans typed, the rest strings. */
    static Map<String, Object> params(List<String> raw) throws UsageException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String r : raw) {
            int eq = r.indexOf('=');
            if (eq <= 0) throw new UsageException("--param needs name=value, got '" + r + "'");
            String k = r.substring(0, eq).trim();
            String v = r.substring(eq + 1).trim();
            Object value = v;
            if (v.equals("true") || v.equals("false")) {
                value = Boolean.valueOf(v);
            } else {
                try {
                    value = v.matches("[-+]?\\d+") ? (Object) Long.valueOf(v) : (Object) Double.valueOf(v);
                } catch (NumberFormatException e) {
                    value = v;
                }
            }
            out.put(k, value);
        }
        return out;
    }

    private static Progress progress() {
        if (System.console() == null) return Progress.NONE;
        return (done, total) -> {
            System.err.print("\rstep " + done + "/" + total);
            if (done >= total) System.err.print("\r" + " ".repeat(24) + "\r");
            System.err.flush();
        };
    }

    /** The info map without multi-line values (the infotext is in the PNG). */
    private static Map<String, Object> oneLineInfo(Map<String, Object> info) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (info == null) return out;
        info.forEach((k, v) -> {
            if (!(v instanceof String s && s.contains("\n"))) out.put(k, v);
        });
        return out;
    }

    /** {@code FILE.png}, or {@code FILE-1.png, FILE-2.png ...} for several images; each written whole or not at all. */
    static List<Path> write(List<byte[]> images, Path out) throws IOException {
        Path dir = out.getParent();
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            Path target = images.size() == 1 ? out : numbered(out, i + 1);
            Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            try {
                Files.write(tmp, images.get(i));
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            written.add(target);
        }
        return written;
    }

    static Path numbered(Path out, int n) {
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".png";
        return out.resolveSibling(stem + "-" + n + ext);
    }
}
