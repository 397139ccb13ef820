package io.jdiffusion.dist;

import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The toy-world model, written once per test JVM into {@code target/toy-model}. */
public final class ToyModel {
    private static Path dir;

    private ToyModel() {
    }

    public static synchronized Path dir() {
        if (dir == null) {
            Path d = SdServer.targetDir().resolve("toy-model").toAbsolutePath();
            try {
                ToyWorld.write(d, ToyWorldOptions.defaults()); // replaces what an older build left there
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            dir = d;
        }
        return dir;
    }
}
