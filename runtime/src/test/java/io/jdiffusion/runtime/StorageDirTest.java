package io.jdiffusion.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageDirTest {
    @TempDir
    Path tmp;

    private Path dir(String name) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name).resolve("bundle0"));
        Files.writeString(d.resolve("bundle.id"), "1");
        return d.getParent();
    }

    @Test
    void sweepsTheFoldersOfRunsThatAreGone() throws Exception {
        Path dead = dir("jdiffusion-felix-1");
        Path deadLock = Files.createFile(tmp.resolve("jdiffusion-felix-1.lock"));
        Path alive = dir("jdiffusion-felix-2");
        Path aliveLock = tmp.resolve("jdiffusion-felix-2.lock");
        Path oldUnlocked = dir("jdiffusion-felix-3");
        Files.setLastModifiedTime(oldUnlocked, FileTime.from(Instant.now().minus(2, ChronoUnit.HOURS)));
        Path newUnlocked = dir("jdiffusion-felix-4");
        Path other = dir("something-else");
        try (FileChannel ch = FileChannel.open(aliveLock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             var lock = ch.lock()) {
            StorageDir.sweep(tmp);
        }
        assertFalse(Files.exists(dead));
        assertFalse(Files.exists(deadLock));
        assertTrue(Files.exists(alive.resolve("bundle0/bundle.id")), "a live run's folder stays");
        assertFalse(Files.exists(oldUnlocked));
        assertTrue(Files.exists(newUnlocked), "may be a run that is starting");
        assertTrue(Files.exists(other));
    }
}
