package io.jdiffusion.engine;

import io.jdiffusion.api.service.GenerationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves generated PNGs as A1111 lays them out ({@code outputs/txt2img-images/DATE/00001-SEED.png}),
 * each written to a temporary file and moved into place, so no half-written image is ever seen.
 */
final class OutputStore {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStore.class);
    private final Path root;

    OutputStore(Path root) {
        this.root = root;
    }

    synchronized void save(String mode, GenerationResult result) {
        Path dir = root.resolve(mode + "-images").resolve(LocalDate.now().toString());
        try {
            Files.createDirectories(dir);
            int next = nextNumber(dir);
            List<?> seeds = (List<?>) result.info().get("seeds");
            for (int i = 0; i < result.images().size(); i++) {
                Path target = dir.resolve(String.format("%05d-%s.png", next + i, seeds.get(i)));
                Path tmp = Files.createTempFile(dir, ".writing-", ".png");
                Files.write(tmp, result.images().get(i));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            // the caller still gets the images; saving is a convenience
            LOG.warn("could not save images to {}: {}", dir, e.toString());
        }
    }

    private static int nextNumber(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("\\d{5}-.*\\.png"))
                    .mapToInt(n -> Integer.parseInt(n.substring(0, 5)))
                    .max().orElse(0) + 1;
        }
    }
}
