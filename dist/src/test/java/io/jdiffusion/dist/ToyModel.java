package io.jdiffusion.dist;

import io.jdiffusion.toyworld.ToyWorld;
import io.jdiffusion.toyworld.ToyWorldOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The toy-world model, written once per test JVM into {@code target/toy-model}. */
public final class ToyModel {
    private static Path dir;
    private static Path depthModels;

    private ToyModel() {
    }

    /**
     * A folder of toy models for the depth tests, written once per test JVM into {@code target/toy-depth-models}:
     * {@code toy-depth} (the 5-channel depth UNet with its depth estimator, as stable-diffusion-2-depth), {@code toy}
     * (an ordinary UNet) and {@code toy-depth-no-estimator} (a depth UNet without {@code depth_estimator/}).
     */
    public static synchronized Path depthModels() {
        if (depthModels == null) {
            Path d = SdServer.targetDir().resolve("toy-depth-models").toAbsolutePath();
            ToyWorldOptions depth = ToyWorldOptions.defaults().withUnetVariant(ToyWorldOptions.UnetVariant.DEPTH);
            try {
                ToyWorld.write(d.resolve("toy-depth"), depth);
                ToyWorld.write(d.resolve("toy"), ToyWorldOptions.defaults());
                Path bare = ToyWorld.write(d.resolve("toy-depth-no-estimator"), depth);
                for (String f : new String[] {"depth_estimator/model.onnx", "depth_estimator/config.json",
                        "feature_extractor/preprocessor_config.json", "depth_estimator", "feature_extractor"}) {
                    java.nio.file.Files.delete(bare.resolve(f));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            depthModels = d;
        }
        return depthModels;
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
