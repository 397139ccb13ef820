package io.jdiffusion.runtime;

import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * {@code make-toy-model --out DIR [--preset sd1|sd2|sdxl] [--precision fp32|fp16]
 * [--weights embedded|weights_pb|onnx_data]
 * [--unet txt2img|depth|inpaint]}: writes a toy-world model folder (replacing what is there) in the
 * shape and layout of a real export, to try the loader without downloading one.
 */
final class MakeToyModelCommand {
    private MakeToyModelCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("out", "preset", "precision", "weights", "unet"), Set.of("debug"));
        a.require("out");
        Path out = a.path("out");
        ToyWorldOptions o = switch (a.get("preset", "sd1")) {
            case "sd1" -> ToyWorldOptions.defaults();
            case "sd2" -> ToyWorldOptions.sd2();
            case "sdxl" -> ToyWorldOptions.sdxl();
            default -> throw new UsageException("--preset must be sd1, sd2 or sdxl, not " + a.get("preset"));
        };
        o = switch (a.get("precision", "fp32").toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> o;
            case "fp16", "float16" -> o.withPrecision(ToyWorldOptions.Precision.FLOAT16);
            default -> throw new UsageException("--precision must be fp32 or fp16, not " + a.get("precision"));
        };
        String weights = a.get("weights", "embedded").toUpperCase(Locale.ROOT);
        try {
            o = o.withWeights(ToyWorldOptions.WeightsLayout.valueOf(weights));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--weights must be embedded, weights_pb or onnx_data, not " + a.get("weights"));
        }
        o = o.withUnetVariant(unetVariant(a.get("unet")));
        ToyWorld.write(out, o);
        System.out.println("wrote the toy-world model (" + ToyWorld.VERSION + ", " + o.key() + ") to " + out);
        return 0;
    }

    /** {@code --unet txt2img|depth|inpaint}: an ordinary, a depth (5-channel, with a depth estimator) or an inpainting UNet. */
    private static ToyWorldOptions.UnetVariant unetVariant(String name) throws UsageException {
        if (name == null) {
            return ToyWorldOptions.UnetVariant.TXT2IMG;
        }
        for (ToyWorldOptions.UnetVariant v : ToyWorldOptions.UnetVariant.values()) {
            if (v.name().equalsIgnoreCase(name.strip())) {
                return v;
            }
        }
        throw new UsageException("--unet must be txt2img, depth or inpaint, not '" + name + "'");
    }
}
