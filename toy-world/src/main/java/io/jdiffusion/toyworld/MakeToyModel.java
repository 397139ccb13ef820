package io.jdiffusion.toyworld;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Command line: {@code MakeToyModel --out DIR [--preset sd1|sd2|sdxl] [--width 768] [--ids int32|int64]
 * [--timestep float|int64] [--prediction epsilon|v_prediction] [--seed N] [--sample-size N] [--precision fp32|fp16]
 * [--weights embedded|weights_pb|onnx_data]} (a preset first, then the options that change it).
 */
public final class MakeToyModel {
    private MakeToyModel() {
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        ToyWorldOptions.Builder b = ToyWorldOptions.builder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                usage();
                return;
            }
            if (i + 1 >= args.length) {
                System.err.println("missing value for " + a);
                usage();
                System.exit(2);
            }
            String v = args[++i];
            switch (a) {
                case "--out" -> out = Path.of(v);
                case "--width" -> b.hiddenWidth(Integer.parseInt(v));
                case "--ids" -> b.idsType(ToyWorldOptions.IdsType.valueOf(v.toUpperCase()));
                case "--timestep" -> b.timestepType(ToyWorldOptions.TimestepType.valueOf(v.toUpperCase()));
                case "--prediction" -> b.predictionType(v);
                case "--seed" -> b.seed(Long.parseLong(v));
                case "--preset" -> b = switch (v) {
                    case "sd1" -> ToyWorldOptions.defaults().toBuilder();
                    case "sd2" -> ToyWorldOptions.sd2().toBuilder();
                    case "sdxl" -> ToyWorldOptions.sdxl().toBuilder();
                    default -> throw new IllegalArgumentException("--preset must be sd1, sd2 or sdxl, not " + v);
                };
                case "--sample-size" -> b.sampleSize(Integer.parseInt(v));
                case "--precision" -> b.precision(switch (v.toLowerCase()) {
                    case "fp16", "float16" -> ToyWorldOptions.Precision.FLOAT16;
                    case "fp32", "float32" -> ToyWorldOptions.Precision.FLOAT32;
                    default -> throw new IllegalArgumentException("--precision must be fp32 or fp16, not " + v);
                });
                case "--weights" -> b.weights(ToyWorldOptions.WeightsLayout.valueOf(v.toUpperCase()));
                default -> {
                    System.err.println("unknown option " + a);
                    usage();
                    System.exit(2);
                }
            }
        }
        if (out == null) {
            usage();
            System.exit(2);
        }
        long t0 = System.nanoTime();
        ToyWorld.write(out, b.build());
        long bytes;
        try (Stream<Path> s = Files.walk(out)) {
            bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        System.out.printf("wrote %s (%s, %.1f MB) in %d ms%n", out, ToyWorld.VERSION, bytes / 1e6,
                (System.nanoTime() - t0) / 1_000_000);
    }

    private static void usage() {
        System.err.println("usage: MakeToyModel --out DIR [--preset sd1|sd2|sdxl] [--width 768] [--ids int32|int64]"
                + " [--timestep float|int64] [--prediction epsilon|v_prediction] [--seed N] [--sample-size N]"
                + " [--precision fp32|fp16] [--weights embedded|weights_pb|onnx_data]");
    }
}
