package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Function;

/** A strategy's durable disk file, made atomically: a program writes a temporary file, which is then renamed. */
final class DiskFiles {

    private DiskFiles() {
    }

    /**
     * Runs {@code commandFor.apply(tmp)}, then renames {@code tmp} to {@code target}. On any failure the temporary
     * file is removed and {@code target} never appears, so an existing target is always complete.
     *
     * @param what what is being made, for the error message ("create the qcow2 overlay")
     */
    static void createAtomically(CommandRunner runner, Path target, String what, Function<Path, Command> commandFor) {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            runner.run(commandFor.apply(tmp));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
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
