package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.TemplateList;
import dev.banger.api.TemplateView;
import dev.banger.config.BangerPaths;
import dev.banger.host.CommandRunner;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.kernel.InitrdAssembler;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.VmmKind;
import dev.banger.template.FileDigests;
import dev.banger.template.Template;
import dev.banger.template.TemplateKey;
import dev.banger.template.TemplateStore;
import dev.banger.util.Files2;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Templates and the VMs restored from them (docs/snapshots.md). A VM created without {@code --cold} restores from
 * the template of its key when there is one; otherwise it boots, and the template for its key is built in the
 * background (one build at a time), so the next VM of the same image, kernel and sizes restores. A new template
 * replaces the older one of the same slot; {@code template prune} removes those whose inputs changed.
 */
public final class Templates implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Templates.class);

    private final BangerPaths paths;
    private final TemplateStore store;
    private final FileDigests digests;
    private final TemplateBuilder builder;
    private final InitrdAssembler initrds;
    private final Path initBinary;
    private final HostNetwork network;
    private final CommandRunner runner;
    private final Clock clock;
    /** Background builds asked for and not finished. */
    private final AtomicInteger pending = new AtomicInteger();
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "template-builder");
        t.setDaemon(true);
        return t;
    });

    Templates(BangerPaths paths, TemplateStore store, HostNetwork network, CommandRunner runner, Path initBinary,
              Duration bootTimeout, Clock clock) {
        this.paths = paths;
        this.store = store;
        this.digests = new FileDigests(store.root().resolve("digests.json"));
        this.builder = new TemplateBuilder(paths, store, network, runner, bootTimeout, clock);
        this.initrds = new InitrdAssembler();
        this.initBinary = initBinary;
        this.network = network;
        this.runner = runner;
        this.clock = clock;
    }

    /** What a VM of these inputs would restore from; what else is needed is checked here (program, files). */
    record Request(VmmDriver driver, Image image, Kernel kernel, Path kernelFile, int cpus, int memoryMib,
                   long workDiskMib) {
    }

    /** True when {@code request}'s VMM can capture guests here (its program is installed). */
    boolean canCapture(Request request) {
        return request.driver().canCapture() && request.driver().program().isPresent();
    }

    /**
     * The key for {@code request} when every digest in it is already known: never reads a whole file, so creating
     * a VM does not wait for a new image to be hashed (that happens in {@link #buildLater}). Empty when the VMM cannot
     * capture, a digest is not known yet, or an input cannot be read.
     */
    Optional<TemplateKey> knownKey(Request request) {
        return key(request, false);
    }

    /**
     * The key for {@code request}, hashing what is not known yet (seconds for a new image), or empty when its VMM
     * cannot capture guests or an input file cannot be read (the VM then simply boots).
     */
    Optional<TemplateKey> keyFor(Request request) {
        return key(request, true);
    }

    private Optional<TemplateKey> key(Request request, boolean compute) {
        if (!canCapture(request)) {
            return Optional.empty();
        }
        try {
            Path initrd = initrds.initrdFor(request.kernel().artifacts(), initBinary);
            List<Path> files = List.of(request.driver().program().orElseThrow(), request.image().rootfsPath(),
                    request.kernelFile(), initrd);
            List<String> known = new ArrayList<>();
            for (Path file : files) {
                Optional<String> digest = compute ? Optional.of(digests.digest(file)) : digests.known(file);
                if (digest.isEmpty()) {
                    return Optional.empty();
                }
                known.add(digest.get());
            }
            return Optional.of(new TemplateKey(request.driver().kind().wireName(),
                    known.get(0) + " " + request.driver().snapshotMode(), request.image().name(), known.get(1),
                    request.kernel().name(), known.get(2), known.get(3), request.cpus(), request.memoryMib(),
                    request.workDiskMib()));
        } catch (IOException | RuntimeException e) {
            log.warn("no template for {}: {}", request.image().name(), e.getMessage());
            return Optional.empty();
        }
    }

    Optional<Template> find(TemplateKey key) {
        return store.find(key.id());
    }

    /** How a VM restores from {@code template}. */
    RestoreFromTemplate restoreFrom(Template template) {
        return new RestoreFromTemplate(template, network, runner, clock);
    }

    /** A template that failed a restore is not trusted again: it is removed, and the next cold boot rebuilds it. */
    void discard(Template template, String why) {
        log.warn("removing template {}: {}", template.id().substring(0, 12), why);
        try {
            store.delete(template);
        } catch (IOException e) {
            log.warn("cannot remove template {}: {}", template.dir(), Files2.describe(e));
        }
    }

    /**
     * In the background (one task at a time): the key for {@code request}, hashing the files not hashed yet, then its
     * template unless it exists.
     */
    void buildLater(Request request) {
        if (!canCapture(request)) {
            return;
        }
        pending.incrementAndGet();
        try {
            executor.submit(() -> {
                try {
                    Optional<TemplateKey> key = keyFor(request);
                    if (key.isPresent() && store.find(key.get().id()).isEmpty()) {
                        buildNow(key.get(), request);
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("template for {} not built: {}", request.image().name(), e.getMessage());
                } finally {
                    pending.decrementAndGet();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pending.decrementAndGet(); // The daemon is stopping.
        }
    }

    /** Builds the template for {@code key} now, then removes older templates of its slot. */
    Template buildNow(TemplateKey key, Request request) throws IOException {
        Path initrd = initrds.initrdFor(request.kernel().artifacts(), initBinary);
        Template built = builder.build(key, request.driver(), request.image(), request.kernel(), request.kernelFile(),
                initrd);
        for (Template other : store.list()) {
            if (!other.id().equals(built.id()) && other.key().slot().equals(key.slot())) {
                discard(other, "replaced by " + built.id().substring(0, 12) + " for " + key.slot());
            }
        }
        return built;
    }

    /** True while a template build runs or waits (tests wait for it). */
    boolean busy() {
        return pending.get() > 0;
    }

    public TemplateList list(ImageService images, KernelService kernels, RunningVms running) {
        List<TemplateView> out = new ArrayList<>();
        for (Template t : store.list()) {
            out.add(view(t, isCurrent(t, images, kernels, running)));
        }
        return new TemplateList(out);
    }

    /** Removes the templates no VM would restore from (or all); returns what it removed. */
    public TemplateList prune(boolean all, ImageService images, KernelService kernels, RunningVms running) {
        List<TemplateView> removed = new ArrayList<>();
        for (Template t : store.list()) {
            boolean current = isCurrent(t, images, kernels, running);
            if (all || !current) {
                TemplateView view = view(t, current);
                try {
                    store.delete(t);
                    removed.add(view);
                } catch (IOException e) {
                    throw BangerException.failedPrecondition("cannot remove template " + t.dir() + ": "
                            + Files2.describe(e));
                }
            }
        }
        return new TemplateList(removed);
    }

    /**
     * Start-up: what a daemon killed during a build left (a template guest's VMM, its tap, the partial directory)
     * goes. A template guest's VMM names its control socket, in the build's runtime dir, on its command line (and
     * QEMU its files in the {@code .building-*} directory too).
     */
    public void reconcile() {
        String marker = paths.vmRuntimeDir(TemplateBuilder.ID_PREFIX).toString();
        for (int i = 0; i < 16; i++) {
            Optional<Long> pid = VmmProcess.findByArgument(marker);
            if (pid.isEmpty()) {
                break;
            }
            log.warn("killing the VMM of an unfinished template build (pid {})", pid.get());
            VmmProcess.stat(pid.get()).ifPresent(stat -> VmmProcess.terminate(pid.get(), stat.startTicks(),
                    Duration.ofSeconds(2)));
        }
        for (String tap : network.listTaps(HostNetwork.tapName(TemplateBuilder.ID_PREFIX))) {
            log.warn("deleting the tap {} of an unfinished template build", tap);
            network.deleteTap(tap);
        }
        for (Path removed : store.removeUnfinished()) {
            log.warn("removed the unfinished template {}", removed);
        }
        Path runtimeDirs = paths.vmRuntimeDir(TemplateBuilder.ID_PREFIX).getParent();
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.isDirectory(runtimeDirs)
                ? java.nio.file.Files.list(runtimeDirs) : java.util.stream.Stream.empty()) {
            for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith(TemplateBuilder.ID_PREFIX))
                    .toList()) {
                log.warn("removing the runtime dir {} of an unfinished template build", dir);
                Files2.deleteRecursively(dir);
            }
        } catch (IOException e) {
            log.warn("cannot clear template runtime dirs in {}: {}", runtimeDirs, Files2.describe(e));
        }
    }

    private boolean isCurrent(Template t, ImageService images, KernelService kernels, RunningVms running) {
        try {
            Image image = images.resolve(t.key().image());
            Kernel kernel = kernels.resolve(t.key().kernel());
            VmmDriver driver = running.driver(VmmKind.fromWire(t.key().vmm()));
            Path kernelFile = kernel.artifacts().bootImage(driver.kind()).orElse(null);
            if (kernelFile == null) {
                return false;
            }
            return keyFor(new Request(driver, image, kernel, kernelFile, t.key().cpus(), t.key().memoryMib(),
                    t.key().workDiskMib())).map(k -> k.id().equals(t.id())).orElse(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private TemplateView view(Template t, boolean current) {
        TemplateKey k = t.key();
        return new TemplateView(t.id(), k.image(), k.kernel(), k.vmm(), k.cpus(), k.memoryMib(), k.workDiskMib(),
                store.diskUse(t), t.bootMillis(), t.captureMillis(), t.createdAt(), current);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
