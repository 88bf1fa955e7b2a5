package dev.banger.vm;

import dev.banger.config.BangerPaths;
import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentException;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.disk.HostCapabilities;
import dev.banger.host.disk.RootDisk;
import dev.banger.host.disk.RootDiskChooser;
import dev.banger.host.disk.RootDiskException;
import dev.banger.host.disk.RootDiskRequest;
import dev.banger.host.network.HostNetwork;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.template.Template;
import dev.banger.template.TemplateKey;
import dev.banger.template.TemplateStore;
import dev.banger.util.Files2;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds one template (docs/snapshots.md): boots a guest of the key's image, kernel and sizes with
 * {@code banger.template=1} (banger-init stops before anything per-VM: no hostname, address, work disk or sshd),
 * its RAM in a shared file (QEMU; Firecracker writes it at capture), waits for the agent, captures it, and
 * publishes the directory. Its root disk is made in the template's directory by the root-disk strategy for
 * templates of its VMM, so the disk as it is at capture is the template's. The guest has a tap of its own while it
 * runs (the device must exist to be captured) and an empty work disk of the key's size (the guest reads disk sizes
 * when it boots); both go away after the capture, as does its VMM's own directory (the runtime dir: pid file,
 * logs, Firecracker's drive links), so the template holds only what a restore reads.
 */
final class TemplateBuilder {

    private static final Logger log = LoggerFactory.getLogger(TemplateBuilder.class);
    /** The template guest's MAC: every clone sets its own before its link comes up. */
    static final String TEMPLATE_MAC = "02:ba:00:00:00:01";
    static final String WORK_DISK = "work.raw";
    /** The guest's hostname until personalise sets the clone's. */
    static final String TEMPLATE_HOSTNAME = "banger-template";
    /**
     * A template guest's stand-in VM id starts with this (VM ids are hex, so never "t"): its tap is "btt...", which
     * reconcile finds after a crash.
     */
    static final String ID_PREFIX = "t";

    private final BangerPaths paths;
    private final TemplateStore store;
    private final HostNetwork network;
    private final CommandRunner runner;
    private final Duration bootTimeout;
    private final Clock clock;
    private final RootDiskChooser rootDisks;

    TemplateBuilder(BangerPaths paths, TemplateStore store, HostNetwork network, CommandRunner runner,
                    Duration bootTimeout, Clock clock) {
        this.paths = paths;
        this.store = store;
        this.network = network;
        this.runner = runner;
        this.bootTimeout = bootTimeout;
        this.clock = clock;
        this.rootDisks = RootDiskChooser.standard(runner);
    }

    static String kernelCommandLine() {
        return ColdBoot.baseCommandLine() + " banger.template=1 banger.hostname=" + TEMPLATE_HOSTNAME;
    }

    /**
     * Builds and publishes the template for {@code key}. Whatever happens, the template guest's VMM, tap and
     * runtime dir are gone when this returns; on failure the partial directory is too.
     */
    Template build(TemplateKey key, VmmDriver driver, Image image, Kernel kernel, Path kernelFile, Path initrd)
            throws IOException {
        long t0 = System.nanoTime();
        Path dir = store.beginBuild(key);
        String id = ID_PREFIX + HexFormat.of().formatHex(randomBytes(6)).substring(0, 11);
        Path runtime = paths.vmRuntimeDir(id);
        String tap = HostNetwork.tapName(id);
        VmmHandle vmm = null;
        boolean tapCreated = false;
        boolean published = false;
        try {
            // Copies, not links: the template's files are made read-only, and the kernel's are not the template's.
            Files.copy(kernelFile, dir.resolve(Template.KERNEL));
            Files.copy(initrd, dir.resolve(Template.INITRD));
            RootDisk root = rootDisk(driver, id, image, dir);
            try (RandomAccessFile work = new RandomAccessFile(dir.resolve(WORK_DISK).toFile(), "rw")) {
                work.setLength(key.workDiskMib() << 20);
            }
            Files.createDirectories(runtime, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            network.createTap(tap);
            tapCreated = true;
            String cmdline = kernelCommandLine();
            VmSpec spec = new VmSpec(id, "template-" + key.id().substring(0, 12), key.cpus(), key.memoryMib(),
                    dir.resolve(Template.KERNEL), dir.resolve(Template.INITRD), cmdline,
                    List.of(root.toDiskSpec(),
                            new DiskSpec(dir.resolve(WORK_DISK), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK)),
                    runtime.resolve("agent.sock"), runtime.resolve("control.sock"), dir.resolve("console.log"),
                    runtime, 3, Optional.of(new NetworkSpec(tap, TEMPLATE_MAC)));
            Snapshot snapshot = new Snapshot(dir.resolve(Template.MEMORY), dir.resolve(Template.DEVICE_STATE));
            vmm = driver.launchForCapture(spec, snapshot);
            try (AgentClient agent = AgentClient.awaitReady(driver.agentTransport(vmm), bootTimeout,
                    dir.resolve("console.log"))) {
                agent.ping();
            } catch (AgentException e) {
                throw new VmmException("the template guest's agent did not answer within " + bootTimeout.toSeconds()
                        + "s; see " + dir.resolve("console.log"));
            }
            long bootMillis = VmBoot.millisSince(t0);
            long c0 = System.nanoTime();
            driver.capture(vmm, snapshot);
            long captureMillis = VmBoot.millisSince(c0);
            driver.terminate(vmm, Duration.ofSeconds(2));
            vmm = null;
            Files.deleteIfExists(dir.resolve(WORK_DISK));
            Template built = store.publish(dir, new Template(key, root.attachPath().getFileName().toString(), cmdline,
                    clock.instant().toString(), bootMillis, captureMillis, dir));
            published = true;
            log.info("template {} for {} built in {} ms (boot {} ms, capture {} ms)", key.id().substring(0, 12),
                    key.slot(), VmBoot.millisSince(t0), bootMillis, captureMillis);
            return built;
        } catch (CommandFailedException e) {
            throw new IOException("cannot build the template for " + key.slot() + ": " + e.getMessage(), e);
        } finally {
            if (vmm != null) {
                driver.terminate(vmm, Duration.ofSeconds(2));
            }
            if (tapCreated) {
                try {
                    network.deleteTap(tap);
                } catch (RuntimeException e) {
                    log.warn("cannot delete the template tap {}: {}", tap, e.getMessage());
                }
            }
            try {
                Files2.deleteRecursively(runtime);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", runtime, Files2.describe(e));
            }
            if (!published) {
                store.discard(dir);
            }
        }
    }

    /**
     * The template guest's root disk, in the template's directory: a file its VMM opens itself
     * ({@link RootDiskChooser#forTemplate}), so that file as it is at capture is the template's disk state. QEMU: a
     * qcow2 overlay over the image; Firecracker: a raw copy of the image (instant where the filesystem has
     * reflinks).
     */
    private RootDisk rootDisk(VmmDriver driver, String id, Image image, Path dir) throws IOException {
        try {
            return rootDisks.forTemplate(HostCapabilities.probe(runner), driver.kind())
                    .provision(new RootDiskRequest(id, image.rootfsPath(), dir));
        } catch (RootDiskException e) {
            throw new IOException("no root disk for the template guest: " + e.getMessage(), e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }
}
