package dev.banger.template;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.json.Json;
import dev.banger.util.Files2;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The templates directory (docs/snapshots.md): one directory per template, named by its key's id, with a
 * {@code template.json} record. A template is built in a {@code .building-*} directory and published by one
 * rename, so a reader sees a whole template or none; removal renames to {@code .deleting-*} first. A daemon killed
 * mid-build or mid-delete leaves only dot-directories, which {@link #removeUnfinished} clears at start-up.
 */
public final class TemplateStore {

    private static final Logger log = LoggerFactory.getLogger(TemplateStore.class);
    static final String BUILDING = ".building-";
    static final String DELETING = ".deleting-";

    /**
     * What {@code template.json} holds; a record without {@code rootDiskFile} (written before Firecracker templates)
     * has {@link Template#QCOW2_ROOT_DISK}.
     */
    record Stored(TemplateKey key, String rootDiskFile, String kernelCmdline, String createdAt, long bootMillis,
                  long captureMillis) {
    }

    private final Path root;
    private final CommandRunner runner;

    public TemplateStore(Path root, CommandRunner runner) {
        this.root = root;
        this.runner = runner;
    }

    public Path root() {
        return root;
    }

    /** Every published template, oldest first; a directory with an unreadable record is skipped (and logged). */
    public List<Template> list() {
        List<Template> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (!dir.getFileName().toString().startsWith(".") && Files.isDirectory(dir)) {
                    read(dir).ifPresent(out::add);
                }
            }
        } catch (IOException e) {
            log.warn("cannot list templates in {}: {}", root, Files2.describe(e));
        }
        out.sort(Comparator.comparing(Template::createdAt));
        return out;
    }

    /** The published template with {@code id}, when there is one and its files are all there. */
    public Optional<Template> find(String id) {
        Path dir = root.resolve(id);
        return Files.isDirectory(dir) ? read(dir).filter(TemplateStore::complete) : Optional.empty();
    }

    /** A fresh private directory to build a template in; publish it or {@link #discard} it. */
    public Path beginBuild(TemplateKey key) throws IOException {
        Files.createDirectories(root);
        Path dir = root.resolve(BUILDING + key.id().substring(0, 16) + "-" + UUID.randomUUID().toString()
                .substring(0, 8));
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir;
    }

    /**
     * Publishes a built template: writes its record, makes its files read-only and renames the directory to the
     * key's id, replacing a template of the same id.
     */
    public Template publish(Path buildDir, Template built) throws IOException {
        Stored stored = new Stored(built.key(), built.rootDiskFile(), built.kernelCmdline(), built.createdAt(), built.bootMillis(),
                built.captureMillis());
        Files2.writeAtomically(buildDir.resolve(Template.RECORD), Json.writePretty(stored).getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(buildDir)) {
            for (Path f : files) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r-----"));
            }
        }
        Path target = root.resolve(built.id());
        if (Files.exists(target)) {
            delete(target);
        }
        try {
            Files.move(buildDir, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot publish template " + buildDir + ": " + e.getMessage(), e);
        }
        return new Template(built.key(), built.rootDiskFile(), built.kernelCmdline(), built.createdAt(),
                built.bootMillis(), built.captureMillis(), target);
    }

    /** Removes a build that did not finish. */
    public void discard(Path buildDir) {
        try {
            Files2.deleteRecursively(buildDir);
        } catch (IOException e) {
            log.warn("cannot remove the unfinished template {}: {}", buildDir, Files2.describe(e));
        }
    }

    /** Removes a published template: renamed away first, so it stops being found at once. */
    public void delete(Template template) throws IOException {
        delete(template.dir());
    }

    private void delete(Path dir) throws IOException {
        Path doomed = root.resolve(DELETING + dir.getFileName() + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        Files2.deleteRecursively(doomed);
    }

    /** Start-up: removes what a killed daemon left (builds and deletions in progress); returns what it removed. */
    public List<Path> removeUnfinished() {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return removed;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.startsWith(BUILDING) || name.startsWith(DELETING)) {
                    Files2.deleteRecursively(dir);
                    removed.add(dir);
                }
            }
        } catch (IOException e) {
            log.warn("cannot clear unfinished templates in {}: {}", root, Files2.describe(e));
        }
        return removed;
    }

    /** Bytes the template's files take on disk (its RAM file is sparse: pages the guest never touched take none). */
    public long diskUse(Template template) {
        CommandResult du = runner.run(Command.of("du", "-s", "-B1", template.dir().toString()).allowingFailure());
        String out = du.stdoutText().strip();
        int tab = out.indexOf('\t');
        try {
            return du.succeeded() && tab > 0 ? Long.parseLong(out.substring(0, tab)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private Optional<Template> read(Path dir) {
        Path record = dir.resolve(Template.RECORD);
        try {
            Stored s = Json.read(Files.readAllBytes(record), Stored.class);
            if (!s.key().id().equals(dir.getFileName().toString())) {
                log.warn("template {} records the key of {}; ignored", dir, s.key().id());
                return Optional.empty();
            }
            return Optional.of(new Template(s.key(), Objects.requireNonNullElse(s.rootDiskFile(),
                    Template.QCOW2_ROOT_DISK), s.kernelCmdline(), s.createdAt(), s.bootMillis(), s.captureMillis(), dir));
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read template record {}: {}", record, e.getMessage());
            return Optional.empty();
        }
    }

    private static boolean complete(Template t) {
        return Files.isRegularFile(t.memory()) && Files.isRegularFile(t.deviceState())
                && Files.isRegularFile(t.rootDisk()) && Files.isRegularFile(t.kernel())
                && Files.isRegularFile(t.initrd());
    }
}
