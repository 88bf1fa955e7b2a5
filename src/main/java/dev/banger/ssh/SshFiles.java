package dev.banger.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * File plumbing for banger's SSH directory: private modes from creation on (never a moment with a readable private
 * key), atomic replacement, and one lock shared by the daemon and CLIs (a file lock between processes, a JVM lock
 * between threads, since a JVM may not take the same file lock twice).
 */
final class SshFiles {

    static final Set<PosixFilePermission> DIR_0700 = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE_0600 = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> FILE_0644 = PosixFilePermissions.fromString("rw-r--r--");
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private SshFiles() {
    }

    /** Creates {@code dir} (and parents) if needed and makes it 0700. */
    static void ensurePrivateDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_0700));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Another process made it first.
            }
        }
        Files.setPosixFilePermissions(dir, DIR_0700);
    }

    /** Runs {@code action} holding the SSH lock of {@code lockFile} (whose directory must exist). */
    static <T> T locked(Path lockFile, Supplier<T> action) {
        JVM_LOCK.lock();
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = ch.lock();
            try {
                return action.get();
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /** Replaces {@code target} atomically with {@code text}, the new file having {@code mode} from its creation. */
    static void writeAtomically(Path target, String text, Set<PosixFilePermission> mode) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(mode));
        Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.setPosixFilePermissions(tmp, mode); // The umask may have narrowed the creation mode.
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
