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
        publish(name, existing -> true, dir -> {
            Path target = dir.resolve(ROOTFS_FILE);
            Path staging = Files.createTempDirectory(paths.scratchDir().filter(Files::isDirectory)
                    .orElse(dir), "debootstrap-");
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
            return publish(name, existing -> false, dir -> {
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

    public ImageView pull(ImagePullRequest request, Call call) {
        if (request.reference() == null || request.reference().isBlank()) {
            throw BangerException.invalidArgument("name an image to pull, e.g. debian:bookworm");
        }
        String name = request.name() != null ? request.name() : defaultName(request.reference());
        Names.requireValid("image", name);
        // The replacement of the default image stays the default.
        boolean replacesDefault = request.force() && images.defaultName().filter(name::equals).isPresent();
        if (request.force()) {
            images.findByName(name).ifPresent(existing -> delete(name));
        }
        PullProgress progress = new PullProgress(call);
        String source = canonicalSource(request.reference());
        Peer peer = call.peer();
        try (LocalInputs local = localInputs(peer, request)) {
            ImageView published = publish(name, existing -> existing.source().equals(source) && !request.force(),
                    dir -> {
                Path target = dir.resolve(ROOTFS_FILE);
                PullOptions options = PullOptions.to(target).withInsecure(request.insecure());
                if (local.dockerConfig() != null) {
                    options = options.withDockerConfig(local.dockerConfig().path());
                }
                PulledImage pulled;
                try {
                    pulled = puller.pull(local.reference(), options, progress);
                } catch (IllegalArgumentException e) {
                    throw BangerException.invalidArgument(e.getMessage());
                } catch (ImageException e) {
                    throw BangerException.failedPrecondition("cannot pull " + request.reference() + ": "
                            + e.getMessage());
                }
                progress.finish();
                ImageConfig config = pulled.config();
                String recorded = local.copiedReference() != null ? local.copiedReference() : pulled.sourceReference();
                return new Image(name, recorded, pulled.manifestDigest(), target, pulled.sizeBytes(),
                        config.envMap(), config.workingDir(), config.entrypoint(), config.cmd(), clock.instant());
            });
            return replacesDefault && !published.isDefault() ? defaultImage(name) : published;
        }
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
        return publish(name, existing -> false, dir -> {
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

    /** The image record a VM boots from. */
    public Image get(String name) {
        return find(name);
    }

    @FunctionalInterface
    private interface Builder {
        Image build(Path stagingDir) throws IOException;
    }

    /**
     * Builds the image's files in a staging directory, renames it into place, then records it; all inside the
     * name's publication window.
     *
     * @param sameAs recognises an existing image of the name as what this publication would make (a repeated
     *     pull of one reference): it is returned as is; any other existing image is {@code already_exists}
     */
    private ImageView publish(String name, java.util.function.Predicate<Image> sameAs, Builder builder) {
        ReentrantLock window = publishing.computeIfAbsent(name, n -> new ReentrantLock());
        window.lock();
        Path dir = paths.imagesDir().resolve(name);
        Path staging = paths.imagesDir().resolve("." + name + ".staging");
        try {
            Optional<Image> existing = images.findByName(name);
            if (existing.isPresent()) {
                if (sameAs.test(existing.get())) {
                    return view(existing.get());
                }
                throw BangerException.alreadyExists("an image named '" + name + "' already exists; delete it first, "
                        + "pick another name, or replace it with --force");
            }
            Files2.deleteRecursively(staging);
            Files2.deleteRecursively(dir); // Left by a crash between publishing files and writing the record.
            Files.createDirectories(staging);
            Image built = builder.build(staging);
            Files.move(staging, dir);
            Image image = new Image(built.name(), built.source(), built.digest(),
                    dir.resolve(staging.relativize(built.rootfsPath())), built.sizeBytes(), built.env(),
                    built.workingDir(), built.entrypoint(), built.cmd(), built.createdAt());
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
