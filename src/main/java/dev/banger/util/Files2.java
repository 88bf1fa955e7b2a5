package dev.banger.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/** File helpers the JDK lacks. */
public final class Files2 {

    private Files2() {
    }

    /** Deletes {@code path} and everything under it, without following symlinks; absent is fine. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) {
                    throw exc;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Writes {@code bytes} to {@code target} atomically: a temp file in the same directory, then a rename. */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The operating system's reason for {@code e}, without the file name: the JDK puts only the path in the message
     * of the exceptions it maps from errno (an {@link AccessDeniedException}'s message is the path alone), so a
     * caller naming the file its own way (an entry of a layer, not a staging path) uses this.
     */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException fs) {
            if (fs.getReason() != null) {
                return fs.getReason();
            }
            if (e instanceof AccessDeniedException) {
                return "Permission denied";
            }
            if (e instanceof NoSuchFileException) {
                return "No such file or directory";
            }
            if (e instanceof FileAlreadyExistsException) {
                return "File exists";
            }
            if (e instanceof DirectoryNotEmptyException) {
                return "Directory not empty";
            }
            if (e instanceof NotDirectoryException) {
                return "Not a directory";
            }
            if (e instanceof NotLinkException) {
                return "Not a symbolic link";
            }
            return e.getClass().getSimpleName();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** {@code e} as "FILE: reason" (the JDK's message is sometimes the file alone). */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs && fs.getFile() != null) {
            return fs.getFile() + (fs.getOtherFile() != null ? " -> " + fs.getOtherFile() : "") + ": " + reason(e);
        }
        return reason(e);
    }

    /**
     * What stands at {@code path}, following symlinks, in words for a message: "a regular file", "a directory",
     * "a block device", "a character device", "a FIFO", "a socket", or "nothing" when it does not exist (a dangling
     * symlink included).
     */
    public static String kind(Path path) {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (NoSuchFileException e) {
            return "nothing";
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Files.isRegularFile(path) ? "a regular file" : Files.isDirectory(path) ? "a directory"
                    : Files.exists(path) ? "not a regular file" : "nothing";
        }
        return switch (mode & 0170000) {
            case 0100000 -> "a regular file";
            case 0040000 -> "a directory";
            case 0060000 -> "a block device";
            case 0020000 -> "a character device";
            case 0010000 -> "a FIFO";
            case 0140000 -> "a socket";
            default -> "not a regular file";
        };
    }
}
