package io.jdiffusion.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

/**
 * The framework's storage folder of one run: {@code $TMPDIR/jdiffusion-felix-N}, deleted on stop. A run
 * that was killed (SIGKILL, power loss) cannot delete its own, so each run holds a lock on the sibling
 * file {@code jdiffusion-felix-N.lock} while it lives, and the next run deletes folders whose lock is free.
 */
final class StorageDir implements AutoCloseable {
    static final String PREFIX = "jdiffusion-felix-";
    private static final Duration UNLOCKED_AGE = Duration.ofHours(1);

    private final Path dir;
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;

    private StorageDir(Path dir, Path lockFile, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
    }

    static StorageDir create() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        sweep(tmp);
        Path dir = Files.createTempDirectory(tmp, PREFIX);
        Path lockFile = dir.resolveSibling(dir.getFileName() + ".lock");
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            return new StorageDir(dir, lockFile, ch, ch.lock());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    Path path() {
        return dir;
    }

    /** Deletes the folders of runs that are gone. */
    static void sweep(Path tmp) {
        try (Stream<Path> s = Files.list(tmp)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".lock")) {
                    Path dir = p.resolveSibling(name.substring(0, name.length() - ".lock".length()));
                    if (isFree(p)) {
                        SdRuntime.deleteRecursively(dir);
                        Files.deleteIfExists(p);
                    }
                } else if (Files.isDirectory(p) && Files.notExists(p.resolveSibling(name + ".lock"))
                        && Files.getLastModifiedTime(p).toInstant().isBefore(Instant.now().minus(UNLOCKED_AGE))) {
                    SdRuntime.deleteRecursively(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: it is the temp folder
        }
    }

    private static boolean isFree(Path lockFile) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) return false;
            l.release();
            return true;
        } catch (OverlappingFileLockException e) {
            return false; // held by this JVM
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes the folder and releases the lock. */
    @Override
    public void close() {
        SdRuntime.deleteRecursively(dir);
        try {
            lock.release();
            channel.close();
            Files.deleteIfExists(lockFile);
        } catch (IOException e) {
            // the next run's sweep deletes it
        }
    }
}
