package dev.banger.image.layer;

import dev.banger.util.Files2;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * A directory being built into a root filesystem from untrusted content. Every operation refuses to follow a
 * symlink: each parent component of a path must be a real directory inside the root (checked with lstat, one
 * component at a time, from the root down), and the final component is never dereferenced. The tree is private
 * to the process building it (a fresh directory only banger writes to), so a check cannot be raced by another
 * writer.
 */
public final class StagingTree {

    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private final Path root;

    /** @param root an existing, real directory */
    public StagingTree(Path root) throws IOException {
        Path real = root.toRealPath();
        if (!Files.isDirectory(real, NOFOLLOW)) {
            throw new IOException(root + " is not a directory");
        }
        this.root = real;
    }

    public Path root() {
        return root;
    }

    /**
     * The directory {@code dir}, each component checked. A missing component is created (mode 0755, owned by this
     * process) when {@code create}, else the result is null.
     *
     * @throws UnsafePathException when a component is a symlink or not a directory
     */
    Path directory(EntryPath dir, boolean create) throws IOException {
        Path current = root;
        for (String part : dir.components()) {
            current = current.resolve(part);
            BasicFileAttributes a = lstat(current);
            if (a == null) {
                if (!create) {
                    return null;
                }
                try {
                    Files.createDirectory(current);
                } catch (FileAlreadyExistsException e) {
                    throw new UnsafePathException(dir.toString(), "'" + relative(current) + "' appeared while"
                            + " being created");
                }
            } else if (a.isSymbolicLink()) {
                throw new UnsafePathException(dir.toString(), "'" + relative(current)
                        + "' is a symlink; banger never writes through symlinks");
            } else if (!a.isDirectory()) {
                throw new UnsafePathException(dir.toString(), "'" + relative(current) + "' is not a directory");
            }
        }
        return current;
    }

    /** The attributes of {@code path} itself (a symlink is not followed), or null when it does not exist. */
    static BasicFileAttributes lstat(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Removes {@code path} (a whole tree when it is a directory) without following symlinks. */
    static void remove(Path path, BasicFileAttributes attrs) throws IOException {
        if (attrs.isDirectory()) {
            Files2.deleteRecursively(path);
        } else {
            Files.deleteIfExists(path);
        }
    }

    private String relative(Path p) {
        return root.relativize(p).toString();
    }

    private static EntryPath parse(String rel) {
        if (rel.isEmpty()) {
            return new EntryPath(java.util.List.of());
        }
        try {
            return EntryPath.parse(rel);
        } catch (EntryPath.InvalidPathException e) {
            throw new UnsafePathException(rel, e.getMessage());
        }
    }

    /** The attributes of {@code rel}, not following a final symlink; empty when it or a parent is missing. */
    public Optional<BasicFileAttributes> attributes(String rel) throws IOException {
        EntryPath p = parse(rel);
        if (p.isRoot()) {
            return Optional.of(lstat(root));
        }
        Path dir = directory(p.parent(), false);
        return dir == null ? Optional.empty() : Optional.ofNullable(lstat(dir.resolve(p.name())));
    }

    /** The text of regular file {@code rel}, at most {@code maxBytes}; empty when absent or not a regular file. */
    public Optional<String> readText(String rel, int maxBytes) throws IOException {
        EntryPath p = parse(rel);
        Path dir = directory(p.parent(), false);
        if (dir == null) {
            return Optional.empty();
        }
        Path file = dir.resolve(p.name());
        BasicFileAttributes a = lstat(file);
        if (a == null || !a.isRegularFile()) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(file, NOFOLLOW)) {
            return Optional.of(new String(in.readNBytes(maxBytes), StandardCharsets.UTF_8));
        }
    }

    /**
     * Writes regular file {@code rel} (parents created as needed), replacing a file or symlink there; owned by
     * root, with {@code mode}.
     *
     * @throws UnsafePathException when a parent is a symlink or a directory stands at {@code rel}
     */
    public void writeFile(String rel, String content, int mode) throws IOException {
        EntryPath p = parse(rel);
        Path file = directory(p.parent(), true).resolve(p.name());
        BasicFileAttributes a = lstat(file);
        if (a != null && a.isDirectory()) {
            throw new UnsafePathException(rel, "is a directory");
        }
        if (a != null) {
            Files.delete(file);
        }
        Files.write(file, content.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        Ownership.chown(file, 0, 0);
        Ownership.chmod(file, mode);
    }

    /**
     * Makes {@code rel} a directory owned by root with {@code mode}, replacing whatever non-directory stands there
     * (contents of an existing directory are kept).
     */
    public void ensureDirectory(String rel, int mode) throws IOException {
        EntryPath p = parse(rel);
        Path dir = p.isRoot() ? root : directory(p.parent(), true).resolve(p.name());
        BasicFileAttributes a = lstat(dir);
        if (a != null && !a.isDirectory()) {
            Files.delete(dir);
            a = null;
        }
        if (a == null) {
            Files.createDirectory(dir);
        }
        Ownership.chown(dir, 0, 0);
        Ownership.chmod(dir, mode);
    }
}
