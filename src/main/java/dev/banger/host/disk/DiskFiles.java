package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.function.Function;

/** Disk files made atomically: a program writes a temporary file, which is then renamed. */
public final class DiskFiles {

    private DiskFiles() {
    }

    /**
     * Runs {@code commandFor.apply(tmp)}, then renames {@code tmp} to {@code target}. On any failure the temporary
     * file is removed and {@code target} never appears, so an existing target is always complete.
     *
     * @param what what is being made, for the error message ("create the qcow2 overlay")
     */
    static void createAtomically(CommandRunner runner, Path target, String what, Function<Path, Command> commandFor) {
        throughTemporary(target, what, tmp -> runner.run(commandFor.apply(tmp)), StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Makes {@code target} (replacing it) a private copy of the disk file {@code source}, which is only read:
     * {@code cp --reflink=auto --sparse=always}, which shares the extents (FICLONE) where the filesystem can
     * (btrfs, XFS: instant, no space used until either side writes) and elsewhere copies the allocated blocks,
     * leaving runs of zeros as holes. Atomic as {@link #createAtomically}; the copy is 0600 whatever the source's
     * mode (a template's files are read-only).
     *
     * @param what what is being copied, for the error message ("copy the template's root disk to")
     * @throws RootDiskException naming both files and cp's error
     */
    public static void copy(CommandRunner runner, Path source, Path target, String what, Duration timeout) {
        throughTemporary(target, what, tmp -> {
            runner.run(Command.of("cp", "--reflink=auto", "--sparse=always", source.toString(), tmp.toString())
                    .withTimeout(timeout));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        }, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** What fills the temporary file. */
    private interface TemporaryWriter {
        void write(Path tmp) throws IOException;
    }

    /**
     * {@code write} fills a temporary sibling of {@code target}, which is then renamed to it; on any failure the
     * temporary file is removed and {@code target} is left as it was.
     */
    private static void throughTemporary(Path target, String what, TemporaryWriter write, CopyOption... move) {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            write.write(tmp);
            Files.move(tmp, target, move);
        } catch (CommandFailedException | IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new RootDiskException("cannot " + what + " " + target + ": " + e.getMessage(), e);
        }
    }
}
