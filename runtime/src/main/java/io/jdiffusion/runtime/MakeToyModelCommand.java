package io.jdiffusion.runtime;

import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Path;
import java.util.Set;

/** {@code make-toy-model --out DIR [--unet txt2img|depth|inpaint]}: writes the toy-world model folder (replacing what is there). */
final class MakeToyModelCommand {
    private MakeToyModelCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("out", "unet"), Set.of("debug"));
        a.require("out");
        Path out = a.path("out");
        ToyWorld.write(out, ToyWorldOptions.defaults().withUnetVariant(unetVariant(a.get("unet"))));
        System.out.println("wrote the toy-world model (" + ToyWorld.VERSION + ") to " + out);
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
