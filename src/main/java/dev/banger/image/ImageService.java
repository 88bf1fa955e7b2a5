package dev.banger.image;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.ImageList;
import dev.banger.api.ImagePullRequest;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.api.ImageView;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.ClientFiles;
import dev.banger.image.registry.ImageSources;
import dev.banger.rpc.Peer;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.config.BangerPaths;
import dev.banger.image.registry.ImageReference;
import dev.banger.rpc.Call;
import dev.banger.model.Image;
import dev.banger.model.Names;
import dev.banger.store.ConstraintViolation;
import dev.banger.store.ImageStore;
import dev.banger.store.VmStore;
import dev.banger.util.Files2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images: the root filesystems VMs boot from. Each lives in {@code images/NAME/rootfs.ext4}, read-only once
 * published; VMs boot from copy-on-write overlays of it.
 */
public final class ImageService {

    private static final Logger log = LoggerFactory.getLogger(ImageService.class);
    static final String ROOTFS_FILE = "rootfs.ext4";
    /** The largest file {@code image register} copies from a client that is not root. */
    static final ClientFiles.Limit ROOTFS_LIMIT = ClientFiles.Limit.gib(64);
    /** The largest layout or archive {@code image pull} copies from a client that is not root. */
    static final ClientFiles.Limit LOCAL_IMAGE_LIMIT = ClientFiles.Limit.gib(64);
    static final ClientFiles.Limit DOCKER_CONFIG_LIMIT = ClientFiles.Limit.mib(1);

    private final BangerPaths paths;
    private final ImageStore images;
    private final VmStore vms;
    private final CommandRunner runner;
    private final Clock clock;
    private final ImagePuller puller;
    private final ClientFiles clientFiles;
    private final Object defaultImageLock = new Object();
    /**
     * The publication window: one pull, register, promote or delete of a name at a time; a second one waits for
     * the first and then sees its outcome (lock order: a VM's lock, then an image name's lock, then the store).
     */
    private final ConcurrentHashMap<String, ReentrantLock> publishing = new ConcurrentHashMap<>();

    public ImageService(BangerPaths paths, ImageStore images, VmStore vms, CommandRunner runner, Clock clock,
                       ImagePuller puller) {
        this.paths = paths;
        this.images = images;
        this.vms = vms;
        this.runner = runner;
        this.clock = clock;
        this.puller = puller;
        this.clientFiles = new ClientFiles(paths.clientInputsDir());
    }

    public ImageList list() {
        Optional<String> defaultName = images.defaultName();
        return new ImageList(images.list().stream().map(i -> view(i, defaultName)).toList());
    }

    public ImageView show(String name) {
        return view(find(name));
    }

    /**
     * As {@link #resolve(String)}, but on a host with no image at all first builds the default image (progress on
     * {@code call}): debootstrap of the host's Debian release from its apt mirror, or a pull of
     * {@code debian:SUITE-slim} where debootstrap is missing. Being the first image, it becomes the default.
     */
    public Image resolve(String nameOrNull, Call call) {
        if (nameOrNull == null) {
            synchronized (defaultImageLock) {
                if (images.list().isEmpty()) {
                    buildDefault(call);
                }
            }
        }
        return resolve(nameOrNull);
    }

    private void buildDefault(Call call) {
        DebootstrapImage debootstrap = new DebootstrapImage(runner, Executables.fromEnvironment());
        String suite = DebootstrapImage.suite(Path.of("/etc/os-release"));
        String name = "debian-" + suite;
        long t0 = System.nanoTime();
        call.emit(Event.Progress.started("default-image", "no image yet: building the default image '" + name + "'"));
        if (!debootstrap.available()) {
            pull(new ImagePullRequest("debian:" + suite + "-slim", name, false, false, null), call);
            return;
        }
        publish(name, existing -> OnExisting.KEEP, dir -> {
            Path target = dir.resolve(ROOTFS_FILE);
            // On disk: the tmpfs scratch directory belongs to pulls, which remove it when their last tree goes.
            Path staging = Files.createTempDirectory(dir, "debootstrap-");
            long size;
            try {
                size = debootstrap.build(staging, target, step ->
                        call.emit(new Event.Progress("default-image", "running", step, 0, -1, -1)));
            } catch (ImageException e) {
                throw BangerException.failedPrecondition("cannot build the default image: " + e.getMessage()
                        + "; register or pull one instead (banger image register / banger image pull)");
            }
            return new Image(name, "debootstrap:" + suite, null, target, size, Map.of(), null, List.of(),
                    List.of(), clock.instant());
        });
        call.emit(Event.Progress.done("default-image", "default image '" + name + "' ready",
                (System.nanoTime() - t0) / 1_000_000));
    }

    /** The image a VM boots: the named one, else the default image. */
    public Image resolve(String nameOrNull) {
        if (nameOrNull != null) {
            return find(nameOrNull);
        }
        return find(images.defaultName().orElseThrow(() -> BangerException.failedPrecondition(
                "no image to boot; register one with: banger image register NAME --rootfs FILE.ext4")));
    }

    /**
     * The default image, after making {@code nameOrNull} the default when it is given. Stored at once: the next
     * {@code vm create} without {@code --image} uses it.
     */
    public ImageView defaultImage(String nameOrNull) {
        if (nameOrNull != null) {
            if (!images.setDefault(nameOrNull)) {
                throw BangerException.notFound("no such image: " + nameOrNull + "; see: banger image list");
            }
            log.info("image {} is now the default", nameOrNull);
        }
        return view(find(images.defaultName().orElseThrow(() -> BangerException.notFound(
                "no default image: there is no image yet; the first vm create or vm run builds one, or: "
                        + "banger image pull REF / banger image register NAME --rootfs FILE.ext4"))));
    }

    /**
     * Adopts an ext4 file as an image (copied into the store). A file that is not ext4 is refused; one where neither
     * /bin/sh nor /sbin/init is a regular executable is registered with a warning event ("warning" status) saying
     * what is wrong, since a VM of it boots but cannot run a command.
     */
    public ImageView register(ImageRegisterRequest request, Call call) {
        String name = Names.requireValid("image", request.name());
        if (request.rootfs() == null || !Path.of(request.rootfs()).isAbsolute()) {
            throw BangerException.invalidArgument("--rootfs needs an absolute path to an ext4 file");
        }
        Path named = Path.of(request.rootfs());
        if (call.peer().privileged()) {
            requireRegularFile(named);
        }
        // A client that is not root has the file read as itself (a copy), never by the daemon.
        try (ClientFiles.Local rootfs = clientFiles.file(call.peer(), named, "--rootfs", ROOTFS_LIMIT)) {
            Path source = rootfs.path();
            try {
                if (!Ext4.isExtFilesystem(source)) {
                    throw BangerException.invalidArgument("--rootfs " + named + " is not an ext4 file system "
                            + "(no ext superblock); make one with mkfs.ext4 -d DIR FILE SIZE");
                }
            } catch (IOException e) {
                throw BangerException.invalidArgument("cannot read --rootfs " + named + ": " + e.getMessage());
            }
            new BootCheck(runner).problem(source).ifPresent(problem -> call.emit(new Event.Progress("check-rootfs",
                    "warning", "warning: " + named + " has no program to run commands with (" + problem + "); VMs"
                    + " of it boot but cannot run commands", 0, -1, -1)));
            return publish(name, existing -> OnExisting.REFUSE, dir -> {
                Path target = dir.resolve(ROOTFS_FILE);
                try {
                    if (rootfs.copied()) {
                        Files.move(source, target); // The copy is the daemon's: it becomes the image's file.
                    } else {
                        runner.run(Command.of("cp", "--reflink=auto", "--sparse=always", source.toString(),
                                target.toString()).withTimeout(Duration.ofMinutes(30)));
                    }
                } catch (CommandFailedException e) {
                    throw BangerException.failedPrecondition("cannot copy " + named + " into the image store: "
                            + e.getMessage());
                }
                return new Image(name, "register:" + named, null, target, Files.size(target), Map.of(), null,
                        List.of(), List.of(), clock.instant());
            });
        }
    }

    /** The checks a privileged client's --rootfs gets by name: a regular file (never read as a block device). */
    private static void requireRegularFile(Path source) {
        String kind = Files2.kind(source);
        if (kind.equals("nothing")) {
            throw BangerException.invalidArgument("--rootfs " + source + ": no such file");
        }
        if (kind.equals("a block device")) {
            throw BangerException.invalidArgument("--rootfs " + source + " is a block device, not a file; copy"
                    + " it to an ext4 file first (e.g. dd if=" + source + " of=rootfs.ext4 conv=sparse) and"
                    + " register that");
        }
        if (!kind.equals("a regular file")) {
            throw BangerException.invalidArgument("--rootfs " + source + " is " + kind + ", not an ext4 file"
                    + (kind.equals("a directory") ? "; make one with mkfs.ext4 -d DIR FILE SIZE" : ""));
        }
    }


    /**
     * Pulls an image under a name. When the name already has an image of the same source, the reference is resolved
     * again: the same manifest digest is "up to date" (nothing fetched); a new one (the tag moved) updates the image.
     * {@code --force} replaces whatever the name holds. An update or replacement builds the new image first and swaps
     * it in within the name's publication window, so a failed pull leaves the old image as it was; it is refused
     * while VMs use the image (they boot from overlays of its disk). The default image stays the default.
     */
    public ImageView pull(ImagePullRequest request, Call call) {
        if (request.reference() == null || request.reference().isBlank()) {
            throw BangerException.invalidArgument("name an image to pull, e.g. debian:bookworm");
        }
        String name = request.name() != null ? request.name() : defaultName(request.reference());
        Names.requireValid("image", name);
        PullProgress progress = new PullProgress(call);
        String source = canonicalSource(request.reference());
        // A client that is not root has its local inputs (layout, archive, docker config) read as itself.
        try (LocalInputs local = localInputs(call.peer(), request)) {
            return publish(name, existing -> {
                if (request.force()) {
                    return OnExisting.REPLACE;
                }
                if (!existing.source().equals(source)) {
                    return OnExisting.REFUSE;
                }
                String now = pulling(request, () -> puller.resolveDigest(local.reference(),
                        pullOptions(request, local, paths.imagesDir().resolve(name).resolve(ROOTFS_FILE))));
                if (now.equals(existing.digest())) {
                    call.emit(Event.Progress.done("pull", "image '" + name + "' is up to date (" + now + ")", 0));
                    return OnExisting.KEEP;
                }
                call.emit(new Event.Progress("pull", "running", source + " moved from " + existing.digest() + " to "
                        + now + ": updating image '" + name + "'", 0, -1, -1));
                return OnExisting.REPLACE;
            }, dir -> {
                Path target = dir.resolve(ROOTFS_FILE);
                PulledImage pulled = pulling(request, () -> puller.pull(local.reference(),
                        pullOptions(request, local, target), progress));
                progress.finish();
                ImageConfig config = pulled.config();
                String recorded = local.copiedReference() != null ? local.copiedReference()
                        : pulled.sourceReference();
                return new Image(name, recorded, pulled.manifestDigest(), target, pulled.sizeBytes(),
                        config.envMap(), config.workingDir(), config.entrypoint(), config.cmd(), clock.instant());
            });
        }
    }

    private static PullOptions pullOptions(ImagePullRequest request, LocalInputs local, Path target) {
        PullOptions options = PullOptions.to(target).withInsecure(request.insecure());
        return local.dockerConfig() == null ? options : options.withDockerConfig(local.dockerConfig().path());
    }

    /**
     * A pull's local inputs as the peer may read them: the reference (its layout or archive copied as the peer
     * when the peer is not privileged) and the docker config.
     *
     * @param copiedReference the reference as the client named it, when {@code reference} names a copy
     */
    private record LocalInputs(String reference, String copiedReference, ClientFiles.Local input,
                               ClientFiles.Local dockerConfig) implements AutoCloseable {
        @Override
        public void close() {
            if (input != null) {
                input.close();
            }
            if (dockerConfig != null) {
                dockerConfig.close();
            }
        }
    }

    private LocalInputs localInputs(Peer peer, ImagePullRequest request) {
        ClientFiles.Local dockerConfig = null;
        ClientFiles.Local input = null;
        try {
            if (request.dockerConfig() != null) {
                Path config = Path.of(request.dockerConfig());
                if (!config.isAbsolute()) {
                    throw BangerException.invalidArgument("the docker config " + config + " must be an absolute path");
                }
                dockerConfig = clientFiles.file(peer, config, "docker config", DOCKER_CONFIG_LIMIT);
            }
            if (peer.privileged() || !ImageSources.isLocal(request.reference())) {
                return new LocalInputs(request.reference(), null, null, dockerConfig);
            }
            ImageSources.LocalSpec spec = ImageSources.localSpec(request.reference(),
                    p -> clientFiles.kind(peer, p) == ClientFiles.Kind.DIRECTORY,
                    p -> clientFiles.kind(peer, p) == ClientFiles.Kind.REGULAR_FILE).orElseThrow(() ->
                    BangerException.invalidArgument(request.reference() + " names no "
                            + (request.reference().startsWith("oci-layout:") ? "directory" : "file") + " that user "
                            + peer.user() + " can read"));
            input = spec.directory()
                    ? clientFiles.tree(peer, spec.path(), "oci-layout:", LOCAL_IMAGE_LIMIT)
                    : clientFiles.file(peer, spec.path(), "docker-archive:", LOCAL_IMAGE_LIMIT);
            return new LocalInputs(spec.withPath(input.path()), spec.withPath(spec.path()), input, dockerConfig);
        } catch (RuntimeException e) {
            if (input != null) {
                input.close();
            }
            if (dockerConfig != null) {
                dockerConfig.close();
            }
            throw e;
        }
    }

    /** Runs a puller call, its failures in the API's terms: one line, {@code cannot pull REF:} once. */
    private static <T> T pulling(ImagePullRequest request, java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (IllegalArgumentException e) {
            throw BangerException.invalidArgument(e.getMessage());
        } catch (ImageException e) {
            throw BangerException.failedPrecondition("cannot pull " + request.reference() + ": " + e.getMessage());
        }
    }

    /** How a pulled image records its source, so a repeated pull of one reference is recognised. */
    static String canonicalSource(String reference) {
        String ref = reference.startsWith("docker://") ? reference.substring("docker://".length()) : reference;
        if (ref.startsWith("oci-layout:") || ref.startsWith("docker-archive:")) {
            return ref;
        }
        try {
            return ImageReference.parse(ref).toString();
        } catch (IllegalArgumentException e) {
            throw BangerException.invalidArgument(e.getMessage());
        }
    }

    /** "debian:bookworm" → "debian-bookworm"; "ghcr.io/o/tool:latest" → "tool"; a layout dir → its name. */
    static String defaultName(String reference) {
        String base;
        String ref = reference.startsWith("docker://") ? reference.substring("docker://".length()) : reference;
        if (ref.startsWith("oci-layout:") || ref.startsWith("docker-archive:")) {
            String path = ref.substring(ref.indexOf(':') + 1);
            base = Path.of(path.split(":")[0]).getFileName().toString().replaceFirst("\\.tar$", "");
        } else {
            ImageReference parsed;
            try {
                parsed = ImageReference.parse(ref);
            } catch (IllegalArgumentException e) {
                throw BangerException.invalidArgument(e.getMessage());
            }
            String repo = parsed.repository().substring(parsed.repository().lastIndexOf('/') + 1);
            base = parsed.tag() == null || parsed.tag().equals("latest") ? repo : repo + "-" + parsed.tag();
        }
        String name = base.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-")
                .replaceAll("^-|-$", "");
        name = name.length() > 63 ? name.substring(0, 63).replaceAll("-$", "") : name;
        if (!Names.isValid(name)) {
            throw BangerException.invalidArgument("cannot derive an image name from " + reference + "; give --name");
        }
        return name;
    }

    /**
     * Publishes a new image whose root disk is converted from another disk (a stopped VM's root overlay, for
     * {@code image promote}): {@code qemu-img convert} flattens an overlay and its base into one sparse raw file.
     */
    public ImageView publishConverted(String name, Path sourceDisk, String sourceFormat, String sourceDescription,
                                      Image basedOn) {
        Names.requireValid("image", name);
        return publish(name, existing -> OnExisting.REFUSE, dir -> {
            Path target = dir.resolve(ROOTFS_FILE);
            try {
                runner.run(Command.of("qemu-img", "convert", "-q", "-f", sourceFormat, "-O", "raw", "-S", "4k",
                        sourceDisk.toString(), target.toString()).withTimeout(Duration.ofMinutes(30)));
            } catch (CommandFailedException e) {
                throw BangerException.failedPrecondition("cannot convert " + sourceDisk + " into an image: "
                        + e.getMessage());
            }
            return new Image(name, sourceDescription, null, target, Files.size(target), basedOn.env(),
                    basedOn.workingDir(), basedOn.entrypoint(), basedOn.cmd(), clock.instant());
        });
    }

    /**
     * Publishes an image whose root disk was made elsewhere ({@code image import} of a verified bundle): the file
     * moves into the image store under {@code name}; source, digest and config come from {@code record}.
     */
    public ImageView publishImported(String name, Path rootfs, Image record) {
        Names.requireValid("image", name);
        return publish(name, existing -> OnExisting.REFUSE, dir -> {
            Path target = dir.resolve(ROOTFS_FILE);
            Files.move(rootfs, target);
            return new Image(name, record.source(), record.digest(), target, Files.size(target), record.env(),
                    record.workingDir(), record.entrypoint(), record.cmd(), clock.instant());
        });
    }

    /** Whether an image of that name exists. */
    public boolean exists(String name) {
        return images.findByName(name).isPresent();
    }

    /** The image record a VM boots from. */
    public Image get(String name) {
        return find(name);
    }

    @FunctionalInterface
    private interface Builder {
        Image build(Path stagingDir) throws IOException;
    }

    /** What a publication does when its name already has an image. */
    enum OnExisting {
        /** Return the existing image as is (a repeated pull of one digest). */
        KEEP,
        /** Build the new image, then swap it in (refused while VMs use the old one). */
        REPLACE,
        /** {@code already_exists}. */
        REFUSE
    }

    @FunctionalInterface
    private interface ExistingPolicy {
        OnExisting decide(Image existing);
    }

    /**
     * Builds the image's files in a staging directory, renames it into place, then records it; all inside the
     * name's publication window. A replacement is built beside the image it replaces and swapped in only once
     * built: the old files move aside, the new ones take their place, and the record is rewritten in one store
     * transaction that fails when a VM uses the image (then the old files come back).
     *
     * @param onExisting decides, inside the window, what to do when the name already has an image
     */
    private ImageView publish(String name, ExistingPolicy onExisting, Builder builder) {
        ReentrantLock window = publishing.computeIfAbsent(name, n -> new ReentrantLock());
        window.lock();
        Path dir = paths.imagesDir().resolve(name);
        Path staging = paths.imagesDir().resolve("." + name + ".staging");
        Path previous = paths.imagesDir().resolve("." + name + ".previous");
        try {
            recoverInterruptedSwap(dir, previous);
            Optional<Image> existing = images.findByName(name);
            if (existing.isPresent()) {
                switch (onExisting.decide(existing.get())) {
                    case KEEP -> {
                        return view(existing.get());
                    }
                    case REFUSE -> throw BangerException.alreadyExists("an image named '" + name + "' already "
                            + "exists; delete it first, pick another name, or replace it with --force");
                    case REPLACE -> requireUnused(name);
                }
            } else {
                Files2.deleteRecursively(dir); // Left by a crash between publishing files and writing the record.
            }
            Files2.deleteRecursively(staging);
            Files.createDirectories(staging);
            Image built = builder.build(staging);
            Image image = new Image(built.name(), built.source(), built.digest(),
                    dir.resolve(staging.relativize(built.rootfsPath())), built.sizeBytes(), built.env(),
                    built.workingDir(), built.entrypoint(), built.cmd(), built.createdAt());
            if (existing.isPresent()) {
                swap(image, dir, staging, previous);
                log.info("image {} replaced ({} → {}) from {}", name, existing.get().digest(), image.digest(),
                        image.source());
                return view(image);
            }
            Files.move(staging, dir);
            try {
                images.insert(image);
            } catch (RuntimeException e) {
                Files2.deleteRecursively(dir);
                throw e;
            }
            log.info("image {} published from {}", name, image.source());
            return view(image);
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot write image '" + name + "' under " + paths.imagesDir()
                    + ": " + e.getMessage());
        } finally {
            try {
                Files2.deleteRecursively(staging);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", staging, e.toString());
            }
            window.unlock();
        }
    }

    /** Swaps a built replacement in: old files aside, new files in, record rewritten; undone when a VM uses it. */
    private void swap(Image image, Path dir, Path staging, Path previous) throws IOException {
        Files2.deleteRecursively(previous);
        if (Files.exists(dir)) {
            Files.move(dir, previous);
        }
        Files.move(staging, dir);
        boolean replaced;
        try {
            replaced = images.replaceUnlessUsed(image);
        } catch (RuntimeException e) {
            restore(dir, previous);
            throw e;
        }
        if (!replaced) {
            restore(dir, previous);
            requireUnused(image.name());
            throw BangerException.conflict("image '" + image.name() + "' changed while it was being replaced; "
                    + "try again");
        }
        try {
            Files2.deleteRecursively(previous);
        } catch (IOException e) {
            log.warn("image {} replaced, but its old files remain in {}: {}", image.name(), previous, e.toString());
        }
    }

    private static void restore(Path dir, Path previous) throws IOException {
        Files2.deleteRecursively(dir);
        if (Files.exists(previous)) {
            Files.move(previous, dir);
        }
    }

    /**
     * After a crash in the middle of {@link #swap}: old files aside and nothing in place go back; old files aside
     * beside new ones in place are dropped (the record may be either; a later pull compares digests again).
     */
    private static void recoverInterruptedSwap(Path dir, Path previous) throws IOException {
        if (Files.exists(previous)) {
            if (Files.exists(dir)) {
                Files2.deleteRecursively(previous);
            } else {
                Files.move(previous, dir);
            }
        }
    }

    private void requireUnused(String name) {
        List<String> users = vms.namesUsingImage(name);
        if (!users.isEmpty()) {
            throw BangerException.conflict("image '" + name + "' is used by VMs " + String.join(", ", users)
                    + "; delete them before replacing it (the image is unchanged)");
        }
    }

    public void delete(String name) {
        ReentrantLock window = publishing.computeIfAbsent(name, n -> new ReentrantLock());
        window.lock();
        try {
            Image image = find(name);
            try {
                images.delete(name);
            } catch (ConstraintViolation e) {
                throw BangerException.conflict("image '" + name + "' is used by VMs "
                        + String.join(", ", vms.namesUsingImage(name)) + "; delete them first");
            }
            try {
                Files2.deleteRecursively(image.rootfsPath().getParent());
            } catch (IOException e) {
                log.warn("image {} deleted, but its files remain: {}", name, e.toString());
            }
            log.info("deleted image {}", name);
        } finally {
            window.unlock();
        }
    }

    private Image find(String name) {
        return images.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such image: " + name + "; see: banger image list"));
    }

    private ImageView view(Image image) {
        return view(image, images.defaultName());
    }

    private ImageView view(Image image, Optional<String> defaultName) {
        return new ImageView(image.name(), image.source(), image.digest(), image.rootfsPath().toString(),
                image.sizeBytes(), defaultName.filter(image.name()::equals).isPresent(), image.createdAt().toString(),
                vms.namesUsingImage(image.name()));
    }
}
