package dev.banger.image.layer;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates the FIFOs and device nodes of layers in a staging tree and gives them their owner, mode and times
 * without ever opening them. An open is what must not happen: a FIFO's open blocks until a writer comes (the pull
 * hangs for ever), a device node's open runs its driver ({@code /dev/ptmx} allocates a pseudo-terminal, a disk's
 * node reaches the disk), and the node came from an untrusted layer.
 *
 * <p>Why tools: the JDK (17) sets times ({@code BasicFileAttributeView.setTimes}) and, with NOFOLLOW_LINKS, modes
 * through a descriptor it gets with {@code open(O_RDONLY|O_NOFOLLOW)} on anything but a symlink (seen with
 * strace: the open of a FIFO blocks), and it has no mknod. So: {@code mknod -m} (mknodat, then a mode change
 * through an O_PATH descriptor, which does not open the node's driver); the owner with lchown (the JDK's
 * NOFOLLOW_LINKS owner change is lchown); setuid/setgid/sticky bits, which {@code mknod -m} refuses and a later
 * chown clears, with path-based chmod(2) (the JDK's link-following mode change; the final component is the node
 * this class just made in a tree only the daemon writes, so there is no link to follow); times with
 * {@code touch -h}, which is utimensat(AT_SYMLINK_NOFOLLOW) and no open. Each tool gets an argv list, never a
 * shell. Layers carry few nodes (a Debian root tree has about ten), so a process or two per node costs little.
 */
final class SpecialNodes {

    enum Kind {
        FIFO("p"), CHARACTER("c"), BLOCK("b");

        final String mknodType;

        Kind(String mknodType) {
            this.mknodType = mknodType;
        }
    }

    private final CommandRunner runner;
    private final String mknod;
    private final String touch;

    SpecialNodes(CommandRunner runner, Executables executables) {
        this.runner = runner;
        this.mknod = executables.find("mknod").map(Path::toString).orElse("mknod");
        this.touch = executables.find("touch").map(Path::toString).orElse("touch");
    }

    /**
     * Makes {@code target} (which must not exist) a node of {@code kind} with {@code mode} (07777), owner and
     * modification time (also used as the access time).
     *
     * @return false when this host cannot create device nodes (mknod of a device failed: no CAP_MKNOD, as in an
     *     unprivileged container); the node is then absent. A FIFO that cannot be made is an error.
     * @throws IOException naming what failed with the operating system's reason, not the staging path
     */
    boolean create(Path target, Kind kind, int major, int minor, int mode, int uid, int gid, FileTime mtime)
            throws IOException {
        List<String> argv = new ArrayList<>(List.of(mknod, "-m", Integer.toOctalString(mode & 0777),
                target.toString(), kind.mknodType));
        if (kind != Kind.FIFO) {
            argv.add(Integer.toString(major));
            argv.add(Integer.toString(minor));
        }
        try {
            runner.run(Command.of(argv));
        } catch (CommandFailedException e) {
            if (kind != Kind.FIFO) {
                return false;
            }
            throw new IOException("cannot create the FIFO: " + toolReason(e));
        }
        Ownership.chown(target, uid, gid);
        if ((mode & 07000) != 0) {
            Files.setAttribute(target, "unix:mode", mode & 07777);
        }
        try {
            runner.run(Command.of(touch, "-h", "-d", touchStamp(mtime.toInstant()), "--", target.toString()));
        } catch (CommandFailedException e) {
            throw new IOException("cannot set its times: " + toolReason(e));
        }
        return true;
    }

    /** touch's "@SECONDS[.NANOS]"; before 1970 the fraction is dropped (touch reads "@-1.5" as -1 + 0.5). */
    static String touchStamp(Instant t) {
        if (t.getNano() == 0 || t.getEpochSecond() < 0) {
            return "@" + t.getEpochSecond();
        }
        return "@" + t.getEpochSecond() + "." + String.format("%09d", t.getNano());
    }

    /** The tool's reason (what follows its last ": ", e.g. "Operation not permitted"), without the staging path. */
    private static String toolReason(CommandFailedException e) {
        String line = e.stderr().strip();
        int nl = line.lastIndexOf('\n');
        line = nl < 0 ? line : line.substring(nl + 1);
        int colon = line.lastIndexOf(": ");
        if (line.isEmpty()) {
            return e.exitCode() < 0 ? "the program did not run" : "exit status " + e.exitCode();
        }
        return colon < 0 ? line : line.substring(colon + 2);
    }
}
