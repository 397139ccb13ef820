package io.jdiffusion.runtime;

import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.nio.file.Path;
import java.util.Set;

/** {@code make-toy-model --out DIR}: writes the toy-world model folder (replacing what is there). */
final class MakeToyModelCommand {
    private MakeToyModelCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("out"), Set.of("debug"));
        a.require("out");
        Path out = a.path("out");
        ToyWorld.write(out, ToyWorldOptions.defaults());
        System.out.println("wrote the toy-world model (" + ToyWorld.VERSION + ") to " + out);
        return 0;
    }
}
