package dev.banger.workspace;

import dev.banger.api.BangerException;
import dev.banger.api.WorkspaceExportResult;
import dev.banger.guest.AgentClient;
import dev.banger.rpc.Call;
import dev.banger.rpc.Peer;
import dev.banger.host.ClientFiles;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The git workspace of {@code vm run}: finds the repository around a directory, and lays it out in a VM's
 * work-disk seed as {@code /root/NAME}: a local clone of the history (objects hard-linked where the file system
 * allows), the current branch checked out in the index, and the working tree's files as they are — tracked and
 * untracked-but-not-ignored, modified or not. The work disk is then built from the seed with {@code mkfs.ext4 -d},
 * so a large checkout costs one pass over its bytes and no agent round trips.
 *
 * <p>git runs with {@code safe.directory=*}, because the daemon (root) reads repositories its users own, and with
 * the repository's command-running settings ({@code core.fsmonitor}, hooks) switched off, for the same reason.
 * That direct path is for root and the daemon's own user only: for any other client the repository is read as
 * that client into a private copy, and the seed is made from the copy ({@link PeerWorkspace}).
 */
public final class WorkspaceService {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceService.class);
    private static final Duration GIT_TIMEOUT = Duration.ofMinutes(10);

    private final CommandRunner runner;
    private final PeerWorkspace asPeer;

    /** @param clientFiles how the workspace of a client that is not privileged is read as that client */
    public WorkspaceService(CommandRunner runner, ClientFiles clientFiles) {
        this.runner = runner;
        this.asPeer = new PeerWorkspace(clientFiles);
    }

    /**
     * The repository containing {@code dir}, or empty when {@code dir} is not inside one. For a peer that is not
     * {@link Peer#privileged() privileged}, everything is read as that peer into a private copy
     * ({@link PeerWorkspace}); the caller closes the workspace when it is seeded.
     */
    public Optional<Workspace> find(Peer peer, Path dir) {
        if (!peer.privileged()) {
            return asPeer.find(peer, dir);
        }
        if (!Files.isDirectory(dir)) {
            throw BangerException.invalidArgument("workspace " + dir + " is not a directory");
        }
        CommandResult top = git(dir, true, "rev-parse", "--show-toplevel");
        if (!top.succeeded()) {
            return Optional.empty();
        }
        Path root = Path.of(top.stdoutText().strip());
        String prefix = git(dir, false, "rev-parse", "--show-prefix").stdoutText().strip();
        if (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        CommandResult head = git(root, true, "rev-parse", "--verify", "-q", "HEAD");
        CommandResult branch = git(root, true, "symbolic-ref", "-q", "--short", "HEAD");
        List<String> files = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        long bytes = 0;
        String listing = git(root, false, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                .stdoutText();
        for (String file : listing.split("\0")) {
            Path path = root.resolve(file);
            if (!file.isEmpty() && Files.exists(path, LinkOption.NOFOLLOW_LINKS) && seen.add(file)) {
                files.add(file);
                bytes += blocks(path);
            }
        }
        bytes += gitObjectBytes(root);
        String name = root.getFileName() == null ? "workspace" : root.getFileName().toString();
        return Optional.of(new Workspace(root, name, head.succeeded() ? head.stdoutText().strip() : null,
                head.succeeded() && branch.succeeded() ? branch.stdoutText().strip() : null, files, prefix, bytes,
                null));
    }

    /**
     * Lays {@code workspace} out under {@code seedRoot/NAME}. {@code seedRoot} becomes the work disk's root
     * (the guest's /root).
     */
    public void seed(Workspace workspace, Path seedRoot) {
        Path target = seedRoot.resolve(workspace.name());
        boolean copied = workspace.copy() != null;
        // A peer's workspace comes from its private copy: the history as a bundle, the files as a tree.
        Path files = copied ? workspace.copy().path().resolve(PeerWorkspace.TREE) : workspace.root();
        try {
            if (workspace.head() != null && copied) {
                gitChecked(seedRoot, "clone", "-q", "--no-checkout",
                        workspace.copy().path().resolve(PeerWorkspace.BUNDLE).toString(), target.toString());
                gitChecked(target, "remote", "set-url", "origin", workspace.root().toString());
            } else if (workspace.head() != null) {
                gitChecked(seedRoot, "clone", "-q", "--no-checkout", workspace.root().toString(), target.toString());
            }
            if (workspace.head() != null) {
                if (workspace.branch() != null) {
                    gitChecked(target, "update-ref", "refs/heads/" + workspace.branch(), workspace.head());
                    gitChecked(target, "symbolic-ref", "HEAD", "refs/heads/" + workspace.branch());
                } else {
                    gitChecked(target, "update-ref", "--no-deref", "HEAD", workspace.head());
                }
                gitChecked(target, "read-tree", "HEAD");
            } else {
                gitChecked(seedRoot, "init", "-q", target.toString());
            }
            long bytes = 0;
            for (String file : workspace.files()) {
                bytes += place(files.resolve(file), target.resolve(file));
            }
            // The user's directory exists in the guest even when nothing in it is copied (only ignored files).
            Path here = target.resolve(workspace.subdirectory());
            if (!copied) {
                Files.createDirectories(here);
            } else if (!PeerWorkspace.createDirectoriesInside(target, here)) { // Never through a symlink.
                throw new IOException(workspace.subdirectory() + " is not a directory in the copy");
            }
            // The guest's root runs git in a tree its user owns (the host user's uid travels with the files).
            Files.writeString(seedRoot.resolve(".gitconfig"), "[safe]\n\tdirectory = *\n", StandardCharsets.UTF_8);
            log.info("workspace {}: {} files, {} bytes seeded", workspace.root(), workspace.files().size(), bytes);
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot copy the workspace " + workspace.root() + ": "
                    + e.getMessage());
        }
    }

    /**
     * The guest half of {@code workspace export}: streams a git bundle of the guest repository's work to
     * {@code call} (see {@link GuestExport}); the client fetches from it, as the repository's owner.
     */
    public WorkspaceExportResult export(AgentClient guest, String guestPath, boolean uncommitted, Call call)
            throws IOException, InterruptedException {
        return GuestExport.export(guest, guestPath, uncommitted, call);
    }

    /** A file's size rounded up to whole 4 KiB blocks, as it lands on the work disk. */
    private static long blocks(Path file) {
        try {
            long size = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? Files.size(file) : 0;
            return (size + 4095) / 4096 * 4096 + 4096;
        } catch (IOException e) {
            return 4096;
        }
    }

    /** Bytes of the repository's git objects (loose and packed), which its clone in the seed takes too. */
    private long gitObjectBytes(Path root) {
        long kib = 0;
        for (String line : git(root, true, "count-objects", "-v").stdoutText().split("\n")) {
            String[] kv = line.split(":\\s*", 2);
            if (kv.length == 2 && (kv[0].equals("size") || kv[0].equals("size-pack"))) {
                try {
                    kib += Long.parseLong(kv[1].strip());
                } catch (NumberFormatException ignored) {
                    // An unexpected line: the estimate stays low by that much.
                }
            }
        }
        return kib * 1024;
    }

    /** Hard-links a file into the seed (no bytes copied), or copies it when linking is not possible. */
    private static long place(Path source, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        if (Files.isSymbolicLink(source)) {
            Files.deleteIfExists(target);
            Files.createSymbolicLink(target, Files.readSymbolicLink(source));
            return 0;
        }
        if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
            return 0; // Submodule directories and other non-files: git lists them, the seed skips them.
        }
        Files.deleteIfExists(target);
        try {
            Files.createLink(target, source);
        } catch (IOException | UnsupportedOperationException e) {
            if (e instanceof FileAlreadyExistsException) {
                throw (IOException) e;
            }
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        return Files.size(source);
    }

    private CommandResult git(Path dir, boolean allowFailure, String... args) {
        Command command = Command.of(gitArgv(dir, args)).withTimeout(GIT_TIMEOUT);
        return runner.run(allowFailure ? command.allowingFailure() : command);
    }

    private void gitChecked(Path dir, String... args) {
        try {
            runner.run(Command.of(gitArgv(dir, args)).withTimeout(GIT_TIMEOUT));
        } catch (CommandFailedException e) {
            throw BangerException.failedPrecondition("git failed while copying the workspace: " + e.getMessage());
        }
    }

    static List<String> gitArgv(Path dir, String... args) {
        // The daemon is root and the repository is its user's: its config must not get to run anything.
        List<String> argv = new ArrayList<>(List.of("git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false",
                "-c", "core.hooksPath=/dev/null", "-C", dir.toString()));
        argv.addAll(List.of(args));
        return argv;
    }
}
