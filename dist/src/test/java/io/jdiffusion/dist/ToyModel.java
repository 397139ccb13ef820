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

    private static Path modelsDir;

    /**
     * {@code target/toy-models}, for {@code --models-dir}: holds {@code toy-inpaint}, the toy world with the
     * inpainting (9-channel) UNet, written once per test JVM.
     */
    public static synchronized Path modelsDir() {
        if (modelsDir == null) {
            Path d = SdServer.targetDir().resolve("toy-models").toAbsolutePath();
            try {
                ToyWorld.write(d.resolve(INPAINT_ID), ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.INPAINT));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            modelsDir = d;
        }
        return modelsDir;
    }

    /** The model id of the inpainting toy world in {@link #modelsDir()}. */
    public static final String INPAINT_ID = "toy-inpaint";
}
