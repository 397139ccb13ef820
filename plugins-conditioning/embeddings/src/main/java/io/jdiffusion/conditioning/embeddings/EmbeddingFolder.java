package io.jdiffusion.conditioning.embeddings;

import io.jdiffusion.api.EmbeddingSource;
import io.jdiffusion.api.Plugin;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The embeddings of a folder ({@code sd.embeddings}, {@code --embeddings DIR}; default
 * {@code embeddings/} in the working folder), read as they are now: every call looks at the folder,
 * reads files that are new or changed (by size and modification time) and forgets removed ones, so a
 * file dropped in is usable at once, without a restart. Files that cannot be used are listed with
 * the reason by {@link #skipped()}. Subfolders are searched too, as A1111 does.
 */
@Component(service = EmbeddingSource.class, property = {Plugin.NAME + "=embeddings-folder",
        Plugin.LABEL + "=Embeddings folder"})
public class EmbeddingFolder implements EmbeddingSource {
    /** Framework property naming the folder. */
    public static final String PROPERTY = "sd.embeddings";

    /** A file as last read: its stamp and what it gave. */
    private record Read(long size, long modified, Embedding embedding, String error) {
    }

    private volatile Path folder;
    private final Map<Path, Read> cache = new HashMap<>();

    public EmbeddingFolder() {
        this(Path.of("embeddings").toAbsolutePath());
    }

    public EmbeddingFolder(Path folder) {
        this.folder = folder;
    }

    @Activate
    void activate(BundleContext context) {
        String dir = context.getProperty(PROPERTY);
        if (dir != null && !dir.isBlank()) {
            folder = Path.of(dir).toAbsolutePath();
        }
    }

    public Path folder() {
        return folder;
    }

    @Override
    public Map<String, float[][]> embeddings() {
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (Embedding e : loaded()) {
            out.put(e.name(), e.variants().get(0));
        }
        return out;
    }

    @Override
    public List<Embedding> loaded() {
        List<Embedding> out = new ArrayList<>();
        for (Read r : scan().values()) {
            if (r.embedding() != null) {
                out.add(r.embedding());
            }
        }
        return out;
    }

    @Override
    public List<Skipped> skipped() {
        List<Skipped> out = new ArrayList<>();
        scan().forEach((file, r) -> {
            if (r.error() != null) {
                out.add(new Skipped(folder.relativize(file).toString(), r.error()));
            }
        });
        return out;
    }

    /** The folder's embedding files now, by path; unchanged files are not read again. */
    private synchronized Map<Path, Read> scan() {
        List<Path> files = new ArrayList<>();
        collect(folder, files, 0);
        files.sort(Comparator.comparing(Path::toString));
        Map<Path, Read> fresh = new LinkedHashMap<>();
        for (Path f : files) {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(f, BasicFileAttributes.class);
            } catch (IOException e) {
                continue; // removed while we looked
            }
            Read r = cache.get(f);
            if (r == null || r.size() != a.size() || r.modified() != a.lastModifiedTime().toMillis()) {
                r = read(f, a);
            }
            fresh.put(f, r);
        }
        cache.clear();
        cache.putAll(fresh); // removed files drop out here
        Map<Path, Read> now = new LinkedHashMap<>();
        Map<String, Path> words = new HashMap<>();
        fresh.forEach((f, r) -> {
            Path first = r.embedding() == null ? null : words.putIfAbsent(r.embedding().name(), f);
            if (first != null) { // two files, one word: the first in name order wins
                r = new Read(r.size(), r.modified(), null, "the word '" + r.embedding().name()
                        + "' is already taken by " + folder.relativize(first));
            }
            now.put(f, r);
        });
        return now;
    }

    private static Read read(Path f, BasicFileAttributes a) {
        try {
            return new Read(a.size(), a.lastModifiedTime().toMillis(), EmbeddingFile.read(f), null);
        } catch (EmbeddingFormatException e) {
            return new Read(a.size(), a.lastModifiedTime().toMillis(), null, e.getMessage());
        } catch (IOException | RuntimeException e) {
            return new Read(a.size(), a.lastModifiedTime().toMillis(), null, "cannot read: " + e);
        }
    }

    private static void collect(Path dir, List<Path> out, int depth) {
        if (depth > 8 || !Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (Files.isDirectory(p)) {
                    collect(p, out, depth + 1);
                } else if (EmbeddingFile.isEmbeddingFile(p) && Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // a folder that vanished or cannot be listed holds no embeddings now
        }
    }
}
