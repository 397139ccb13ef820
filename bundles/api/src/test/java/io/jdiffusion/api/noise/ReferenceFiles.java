package io.jdiffusion.api.noise;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Finds {@code shared/reference/torch_randn} beside the repository. */
final class ReferenceFiles {
    private ReferenceFiles() {
    }

    static Path torchRandn(String file) {
        List<Path> candidates = new ArrayList<>();
        String shared = System.getProperty("sd.shared.dir");
        if (shared != null && !shared.isBlank()) {
            candidates.add(Paths.get(shared));
        }
        String repo = System.getProperty("sd.repo.dir");
        if (repo != null && !repo.isBlank()) {
            candidates.add(Paths.get(repo, "..", "shared"));
        }
        // without the properties (an IDE run): ../../shared from the module, or any parent's ../shared
        Path dir = Paths.get("").toAbsolutePath();
        candidates.add(dir.resolve("../../shared"));
        for (Path p = dir; p != null; p = p.getParent()) {
            candidates.add(p.resolve("shared"));
        }
        for (Path c : candidates) {
            Path f = c.resolve("reference").resolve("torch_randn").resolve(file).normalize();
            if (Files.isRegularFile(f)) {
                return f;
            }
        }
        throw new IllegalStateException("shared/reference/torch_randn/" + file + " not found (looked in "
                + candidates + "); set -Dsd.shared.dir");
    }
}
