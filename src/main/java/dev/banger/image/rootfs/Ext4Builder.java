package dev.banger.image.rootfs;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;

/**
 * Builds a sparse ext4 image from a directory with {@code mkfs.ext4 -d} (e2fsprogs 1.43+; -d takes a directory),
 * which copies the tree's owners, modes, xattrs, symlinks, hardlinks and device nodes as they are on disk. The size
 * is the tree's content, rounded up to blocks, plus metadata and the requested headroom; the file is sparse, so
 * headroom costs no disk until the guest writes.
 */
public final class Ext4Builder {

    private static final long BLOCK = 4096;
    private static final long INODE_SIZE = 256;
    private static final long MIB = 1024 * 1024;
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    private final CommandRunner runner;
    private final Executables executables;

    public Ext4Builder(CommandRunner runner, Executables executables) {
        this.runner = runner;
        this.executables = executables;
    }

    /**
     * What a tree needs.
     *
     * @param dataBytes bytes of file and directory blocks
     * @param inodes files, directories, symlinks and nodes
     */
    record TreeSize(long dataBytes, long inodes) {
    }

    /**
     * Builds {@code image} (created or overwritten) from {@code tree}.
     *
     * @param headroomBytes free space to leave for the guest
     * @return the image's size in bytes (apparent, not allocated)
     * @throws RootfsException when mkfs.ext4 is missing or fails
     */
    public long build(Path tree, Path image, long headroomBytes) {
        Path mkfs = executables.find("mkfs.ext4").orElseThrow(() -> new RootfsException(
                "mkfs.ext4 is not installed; install e2fsprogs (1.43 or later)"));
        TreeSize need;
        try {
            need = measure(tree);
        } catch (IOException e) {
            throw new RootfsException("cannot measure " + tree + ": " + e.getMessage(), e);
        }
        long inodes = need.inodes() + need.inodes() / 2 + 16384;
        long journal = need.dataBytes() + headroomBytes > (1L << 30) ? 128 * MIB : 64 * MIB;
        long bytes = need.dataBytes() + need.dataBytes() / 20 + inodes * INODE_SIZE + journal + headroomBytes
                + 16 * MIB;
        long sizeKib = (bytes + MIB - 1) / MIB * 1024;
        try {
            Files.deleteIfExists(image);
            runner.run(Command.of(List.of(mkfs.toString(), "-q", "-F", "-b", Long.toString(BLOCK), "-N",
                    Long.toString(inodes), "-d", tree.toString(), image.toString(), sizeKib + "k"))
                    .withTimeout(TIMEOUT));
            return Files.size(image);
        } catch (CommandFailedException e) {
            throw new RootfsException("cannot build the ext4 root disk " + image + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new RootfsException("cannot build the ext4 root disk " + image + ": " + e.getMessage(), e);
        }
    }

    static TreeSize measure(Path tree) throws IOException {
        long[] totals = new long[2];
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                totals[0] += BLOCK;
                totals[1]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                totals[1]++;
                if (attrs.isRegularFile()) {
                    totals[0] += (attrs.size() + BLOCK - 1) / BLOCK * BLOCK;
                } else if (attrs.isSymbolicLink() && attrs.size() >= 60) {
                    totals[0] += BLOCK;
                }
                // directory entries: roughly 32 bytes each in the parent's blocks
                totals[0] += 32;
                return FileVisitResult.CONTINUE;
            }
        });
        return new TreeSize(totals[0], totals[1]);
    }
}
