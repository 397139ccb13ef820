package io.jdiffusion.runtime;

import java.io.PrintStream;

/** {@code sd COMMAND [options]}: a tiny dispatcher; each command is its own class. */
public final class Main {
    static final String USAGE = """
            usage: sd COMMAND [options]

            commands:
              serve           the web UI and JSON API, until Ctrl-C
                --host ADDR           listen address (default 127.0.0.1)
                --port N              port, 0 for any free one (default 7860)
                --outputs DIR         where generated PNGs are saved (default ./outputs)
              generate        one image from the command line
                --prompt TEXT         what to draw (required)
                --out FILE.png        where to write it (required; FILE-1.png, FILE-2.png ... for --batch > 1)
                --negative TEXT       negative prompt
                --sampler NAME        e.g. euler, ddim (GET /api/v1/samplers lists them)
                --schedule NAME       noise schedule
                --steps N  --cfg X  --seed N  --width W  --height H  --batch N
                --mode NAME           generation mode (default txt2img; img2img with --init-image, inpaint with --mask)
                --init-image FILE     img2img: start from this PNG, JPEG or WebP
                --strength X          img2img denoising strength, 0 (keep) to 1 (redraw all); default 0.75
                --resize-mode M       fit the image to the size: 0 just_resize, 1 crop_and_resize, 2 resize_and_fill
                --mask FILE           inpaint (with --init-image): white = repaint, black = keep
                --mask-blur PX        inpaint: softness of the mask's edge (default 4)
                --depth-map FILE      depth2img (with --init-image; implies --mode depth2img): grey, white = near;
                                      or --mode depth2img alone: the depth model's estimator reads the image
                --param NAME=VALUE    a sampler or mode parameter (repeatable), e.g. inpaint's inpainting_fill=0..3, paste_back=0
                --clip-skip N         use the text encoder's state N-1 layers before the last (A1111's Clip skip)
                --timeout SECONDS     how long to wait for the engine to start (default 60)
              make-toy-model  write the built-in toy-world model folder
                --out DIR
                --unet depth          a depth model (5-channel UNet + depth estimator) for depth2img
              sampler-trace   run a sampler on diffusers' scheduler-test model (SD 1.5 config); prints sum= mean=
                --sampler ID  --steps N  [--schedule karras|exponential]
                [--prediction epsilon|v_prediction]  [--seed N]  [--eta X]  [--param NAME=VALUE]
              tokenize        print the CLIP token ids of TEXT (BOS/EOS included) as a JSON array
                --tokenizer DIR TEXT   DIR holds vocab.json + merges.txt
              bench           UNet speed: the toy world and a synthetic SD-1.5-sized UNet, CPU and CUDA;
                              ms per call, steps per second, ratios, peak RSS; a JSON summary last
                --device auto|cpu|cuda   auto: the CPU, and CUDA where it loads; cuda: CUDA and the CPU,
                                      exit 1 when CUDA does not load; cpu: the CPU only (default auto)
                --cuda-option KEY=VALUE  as for serve (repeatable)
                --model DIR           time this model folder's UNet instead (its dtype and extra inputs, as
                                      the engine calls it; SDXL, float16, depth and inpainting UNets)
                --size PX             image side, a multiple of 64 (default 512; with --model, the model's)
                --calls N  --warmup N timed calls (default 5) after warm-up calls (default 1)
                --unet-width N        the synthetic UNet's first block channels (default 320: SD 1.5)
                --no-synthetic        the toy world only
              test            (./sd only) install chromium + chromium-driver if needed, then mvn -B verify

            options of serve and generate:
              --model DIR           a Stable Diffusion ONNX folder (diffusers layout); default: the toy world,
                                    generated once into $XDG_CACHE_HOME/jdiffusion (or ~/.cache/jdiffusion)
              --models-dir DIR      a folder of model folders
              --plugins DIR         plugin bundles, loaded at start and watched (default ./plugins)
              --bundles DIR         the core bundles (default: bundles/ beside the runtime's lib/)
              --device auto|cpu|cuda   (default auto; cuda falls back to the CPU with a one-line reason)
              --cuda-option KEY=VALUE  a CUDA execution provider option (repeatable): device_id=N,
                                    gpu_mem_limit=BYTES (8G, 512M ...), arena_extend_strategy=kNextPowerOfTwo|
                                    kSameAsRequested, cudnn_conv_algo_search=EXHAUSTIVE|HEURISTIC|DEFAULT
              --resident N          models kept loaded at once, least recently used evicted (default 2)
              --embeddings DIR      textual-inversion embeddings, watched (default ./embeddings)
              --debug               log every bundle and plugin
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command; returns the exit code (2: usage error or invalid request). */
    public static int run(String[] args) {
        if (args.length == 0) {
            System.err.print(USAGE);
            return 2;
        }
        String command = args[0];
        if (command.equals("--help") || command.equals("-h") || command.equals("help")) {
            System.out.print(USAGE);
            return 0;
        }
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                System.out.print(USAGE);
                return 0;
            }
        }
        configureLogging(args);
        try {
            return switch (command) {
                case "serve" -> ServeCommand.run(args);
                case "generate" -> GenerateCommand.run(args);
                case "make-toy-model" -> MakeToyModelCommand.run(args);
                case "sampler-trace" -> SamplerTraceCommand.run(args);
                case "tokenize" -> TokenizeCommand.run(args);
                case "bench" -> BenchCommand.run(args);
                default -> throw new UsageException("unknown command: " + command);
            };
        } catch (UsageException e) {
            usageError(System.err, e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("error: " + PluginMonitor.reason(e));
            if (debug(args)) e.printStackTrace();
            return 1;
        }
    }

    private static void usageError(PrintStream err, String message) {
        err.println("sd: " + message);
        err.println();
        err.print(USAGE);
    }

    private static boolean debug(String[] args) {
        for (String a : args) {
            if (a.equals("--debug")) return true;
        }
        return "debug".equalsIgnoreCase(System.getProperty("sd.log", System.getenv("SD_LOG")));
    }

    /** SLF4J simple: short lines on stderr; debug with --debug or -Dsd.log=debug. -D settings win. */
    private static void configureLogging(String[] args) {
        String p = "org.slf4j.simpleLogger.";
        setIfAbsent(p + "defaultLogLevel", debug(args) ? "debug" : "info");
        setIfAbsent(p + "showThreadName", "false");
        setIfAbsent(p + "showLogName", "true");
        setIfAbsent(p + "showShortLogName", "true");
        setIfAbsent(p + "log.org.eclipse.jetty", "warn");
        setIfAbsent(p + "log.ai.djl", "warn");
        setIfAbsent(p + "log.io.javalin", debug(args) ? "info" : "warn");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
