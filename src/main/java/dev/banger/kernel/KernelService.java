package dev.banger.kernel;

import dev.banger.host.ClientFiles;
import dev.banger.model.KernelSource;
import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.KernelImportRequest;
import dev.banger.api.KernelList;
import dev.banger.api.KernelPullRequest;
import dev.banger.api.KernelView;
import dev.banger.config.BangerPaths;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.Names;
import dev.banger.rpc.Call;
import dev.banger.store.ConstraintViolation;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.util.Files2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest kernels: the six kernel commands. Files live in {@code kernels/NAME/} (built by {@link KernelImporter},
 * which publishes the directory atomically); the record is written after the files and removed before them.
 */
public final class KernelService {

    private static final Logger log = LoggerFactory.getLogger(KernelService.class);

    private final BangerPaths paths;
    private final KernelStore kernels;
    private final VmStore vms;
    private final KernelImporter importer;
    private final Clock clock;
    /** Names being imported right now: a second import of one name waits for nothing and fails fast. */
    private final ConcurrentHashMap<String, Boolean> inFlight = new ConcurrentHashMap<>();
    private final Object defaultKernelLock = new Object();

    /** The most {@code kernel import} copies from a client that is not root, per input. */
    static final ClientFiles.Limit KERNEL_LIMIT = ClientFiles.Limit.mib(512);
    static final ClientFiles.Limit DEB_LIMIT = ClientFiles.Limit.gib(2);
    static final ClientFiles.Limit MODULES_LIMIT = ClientFiles.Limit.gib(4);

    private final ClientFiles clientFiles;

    public KernelService(BangerPaths paths, KernelStore kernels, VmStore vms, KernelImporter importer, Clock clock) {
        this.paths = paths;
        this.kernels = kernels;
        this.vms = vms;
        this.importer = importer;
        this.clock = clock;
        this.clientFiles = new ClientFiles(paths.clientInputsDir());
    }

    public KernelList list() {
        return new KernelList(kernels.list().stream().map(this::view).toList());
    }

    public KernelView show(String name) {
        return view(find(name));
    }

    /** The kernel a VM boots: the named one, or the default. */
    public Kernel resolve(String nameOrNull) {
        if (nameOrNull != null) {
            return find(nameOrNull);
        }
        return kernels.findDefault().orElseThrow(() -> BangerException.failedPrecondition(
                "no default kernel; fetch one with: banger kernel pull (or banger kernel import NAME --deb FILE)"));
    }

    /**
     * As {@link #resolve(String)}, but on a host with no kernel at all first pulls the distribution's cloud
     * kernel (progress on {@code call}), which becomes the default.
     */
    public Kernel resolve(String nameOrNull, Call call) {
        if (nameOrNull == null) {
            synchronized (defaultKernelLock) {
                if (kernels.list().isEmpty()) {
                    call.emit(Event.Progress.started("default-kernel", "no kernel yet: pulling the default kernel"));
                    pull(new KernelPullRequest(null, true), call);
                }
            }
        }
        return resolve(nameOrNull);
    }

    public KernelView importKernel(KernelImportRequest request, Call call) {
        String name = Names.requireValid("kernel", request.name());
        boolean hasKernel = request.kernel() != null;
        boolean hasDeb = request.deb() != null;
        if (hasKernel == hasDeb) {
            throw BangerException.invalidArgument("give either --kernel FILE (with optional --modules DIR) or "
                    + "--deb FILE");
        }
        if (hasDeb && request.modules() != null) {
            throw BangerException.invalidArgument("--modules goes with --kernel; a .deb brings its own modules");
        }
        Path named = absolute(hasDeb ? request.deb() : request.kernel(), hasDeb ? "--deb" : "--kernel");
        Path namedModules = request.modules() == null ? null : absolute(request.modules(), "--modules");
        // A client that is not root has its files read as itself (copies), never by the daemon.
        try (ClientFiles.Local source = clientFiles.file(call.peer(), named, hasDeb ? "--deb" : "--kernel",
                     hasDeb ? DEB_LIMIT : KERNEL_LIMIT);
             ClientFiles.Local modules = namedModules == null ? null
                     : clientFiles.tree(call.peer(), namedModules, "--modules", MODULES_LIMIT)) {
            return publish(name, request.makeDefault(), call, dest -> {
                if (hasDeb) {
                    return importer.importDeb(source.path(), dest, progress(call));
                }
                KernelArtifacts imported = importer.importKernel(source.path(),
                        modules == null ? null : modules.path(), dest, progress(call));
                if (!source.copied()) {
                    return imported;
                }
                return new KernelArtifacts(imported.version(), imported.format(), imported.kernel(),
                        imported.vmlinux(), imported.modulesInitramfs(), imported.modules(),
                        new KernelSource(imported.source().kind(), named.toString()));
            });
        }
    }

    /**
     * Pulls the distribution's current cloud kernel, unless a kernel of that release is already here (under the
     * requested name, or under any name when none is given): then it downloads nothing and returns that kernel.
     */
    public KernelView pull(KernelPullRequest request, Call call) {
        if (request.name() != null) {
            Names.requireValid("kernel", request.name());
        }
        ProgressListener progress = progress(call);
        KernelPackage newest;
        try {
            newest = importer.newestDebianCloud(progress);
        } catch (KernelException e) {
            throw BangerException.failedPrecondition(e.getMessage());
        }
        String release = newest.release();
        Optional<Kernel> have = request.name() != null
                ? kernels.findByName(request.name())
                : kernels.list().stream().filter(k -> k.version().equals(release)).findFirst();
        if (have.isPresent()) {
            Kernel kernel = have.get();
            if (!kernel.version().equals(release)) {
                throw BangerException.alreadyExists("a kernel named '" + kernel.name() + "' already exists with "
                        + kernel.version() + " (the newest is " + release + "); delete it first (banger kernel "
                        + "delete " + kernel.name() + ") or pick another name");
            }
            if (request.makeDefault() && !kernel.isDefault()) {
                makeDefault(kernel.name());
            }
            call.emit(Event.Progress.done("kernel", "already have " + release + " (kernel '" + kernel.name()
                    + "')", 0));
            return view(find(kernel.name()));
        }
        String name = request.name() != null ? request.name() : defaultName(release);
        Path staging = paths.kernelsDir().resolve(".pull-" + Long.toHexString(System.nanoTime()));
        KernelArtifacts pulled;
        try {
            pulled = importer.pull(newest, staging, progress);
        } catch (KernelException e) {
            throw BangerException.failedPrecondition(e.getMessage());
        }
        try {
            return publish(name, request.makeDefault(), call, dest -> move(pulled, staging, dest));
        } finally {
            deleteQuietly(staging);
        }
    }

    /**
     * Records a kernel whose files were made elsewhere ({@code image import} of a bundle): the files, all in
     * {@code staged.directory()}, move into the kernel store under {@code name}.
     */
    public KernelView adopt(String name, KernelArtifacts staged, Call call) {
        Names.requireValid("kernel", name);
        return publish(name, false, call, dest -> move(staged, staged.directory(), dest));
    }

    public void makeDefault(String name) {
        if (!kernels.setDefault(name)) {
            throw notFound(name);
        }
        log.info("kernel {} is now the default", name);
    }

    public void delete(String name) {
        Kernel kernel = find(name);
        try {
            kernels.delete(name);
        } catch (ConstraintViolation e) {
            throw BangerException.conflict("kernel '" + name + "' is used by VMs "
                    + String.join(", ", vms.namesUsingKernel(name)) + "; delete them first");
        }
        deleteQuietly(kernel.artifacts().directory());
        log.info("deleted kernel {}", name);
    }

    /** kernel "6.1.0-56-cloud-amd64" → name "6-1-0-56-cloud-amd64". */
    static String defaultName(String version) {
        String name = version.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-")
                .replaceAll("^-|-$", "");
        return name.length() > 63 ? name.substring(0, 63).replaceAll("-$", "") : name;
    }

    private KernelView publish(String name, boolean makeDefault, Call call,
                               Function<Path, KernelArtifacts> build) {
        if (inFlight.putIfAbsent(name, Boolean.TRUE) != null) {
            throw BangerException.conflict("kernel '" + name + "' is being imported right now");
        }
        try {
            if (kernels.findByName(name).isPresent()) {
                throw BangerException.alreadyExists("a kernel named '" + name + "' already exists; delete it first "
                        + "(banger kernel delete " + name + ") or pick another name");
            }
            Path dest = paths.kernelsDir().resolve(name);
            deleteQuietly(dest); // Left by a crash between publishing the files and writing the record.
            KernelArtifacts artifacts;
            try {
                artifacts = build.apply(dest);
            } catch (KernelException e) {
                throw BangerException.invalidArgument(e.getMessage());
            }
            boolean isDefault = makeDefault || kernels.findDefault().isEmpty();
            try {
                kernels.insert(new Kernel(name, artifacts, false, clock.instant()));
                if (isDefault) {
                    kernels.setDefault(name);
                }
            } catch (RuntimeException e) {
                deleteQuietly(dest);
                throw e;
            }
            log.info("kernel {} ({}) imported from {}", name, artifacts.version(), artifacts.source().reference());
            call.emit(Event.Progress.done("kernel", name + " " + artifacts.version() + " ready", 0));
            return view(kernels.findByName(name).orElseThrow());
        } finally {
            inFlight.remove(name);
        }
    }

    private static KernelArtifacts move(KernelArtifacts pulled, Path from, Path to) {
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new KernelException("cannot move the pulled kernel into " + to + ": " + e.getMessage(), e);
        }
        return new KernelArtifacts(pulled.version(), pulled.format(), to.resolve(pulled.kernel().getFileName()),
                pulled.vmlinux() == null ? null : to.resolve(pulled.vmlinux().getFileName()),
                to.resolve(pulled.modulesInitramfs().getFileName()), pulled.modules(), pulled.source());
    }

    private static ProgressListener progress(Call call) {
        long start = System.nanoTime();
        return event -> call.emit(new Event.Progress(event.stage().name().toLowerCase(Locale.ROOT), "running",
                event.message(), (System.nanoTime() - start) / 1_000_000, event.bytes(), event.totalBytes()));
    }

    private static Path absolute(String file, String option) {
        Path path = Path.of(file);
        if (!path.isAbsolute()) {
            throw BangerException.invalidArgument(option + " " + file + " must be an absolute path");
        }
        return path;
    }

    private Kernel find(String name) {
        return kernels.findByName(name).orElseThrow(() -> notFound(name));
    }

    private static BangerException notFound(String name) {
        return BangerException.notFound("no such kernel: " + name + "; see: banger kernel list");
    }

    private static void deleteQuietly(Path dir) {
        try {
            Files2.deleteRecursively(dir);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", dir, e.toString());
        }
    }

    private KernelView view(Kernel kernel) {
        KernelArtifacts a = kernel.artifacts();
        return new KernelView(kernel.name(), a.version(), a.format().name().toLowerCase(Locale.ROOT),
                a.source().kind().name().toLowerCase(Locale.ROOT) + " " + a.source().reference(),
                a.kernel().toString(), a.vmlinux() == null ? null : a.vmlinux().toString(), a.modules(),
                kernel.isDefault(), kernel.createdAt().toString(), vms.namesUsingKernel(kernel.name()));
    }
}
