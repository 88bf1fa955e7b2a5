package dev.banger.vm;

import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.DnsRecords;
import dev.banger.dns.HostResolverHook;
import dev.banger.dns.VmDns;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.kernel.KernelImporter;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.model.Vm;
import dev.banger.model.VmmKind;
import dev.banger.rpc.Call;
import dev.banger.ssh.GuestSsh;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.AgentProcess;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.RecordingCommandRunner;
import dev.banger.vmm.VmmDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VM services wired as bangerd wires them, over a temp state dir, with one kernel ("k", default) and one image
 * ("img", Env LANG=C), a {@link FakeVmm} and recorded {@code ip} commands; disks are real. {@link #close()} ends
 * every "VMM" and closes the store.
 */
public final class FakeHost implements AutoCloseable {

    public final BangerPaths paths;
    public final Database db;
    public final VmStore vmStore;
    public final RecordingCommandRunner ip = new RecordingCommandRunner();
    /** Every other program the VM services run (qemu-img, mkfs.ext4, losetup, ...): real unless a rule says. */
    public final RecordingCommandRunner programs = new RecordingCommandRunner().otherwise(new ProcessCommandRunner()::run);
    final FakeVmm vmm;
    public final HostNetwork network;
    public final RunningVms running;
    public final VmLifecycle lifecycle;
    private final DaemonConfig config;
    private final ImageService images;
    private final KernelService kernels;
    private final VmDns dns;
    private final Map<VmmKind, VmmDriver> drivers;

    public FakeHost(Path dir) throws IOException {
        this(dir, null, 5);
    }

    /**
     * As {@link #FakeHost(Path)}, with {@code firecracker} as the Firecracker driver (kernel "k" then also has an
     * ELF vmlinux for it) and guests given {@code bootTimeoutSeconds} to answer.
     */
    public static FakeHost withFirecracker(Path dir, VmmDriver firecracker, int bootTimeoutSeconds)
            throws IOException {
        return new FakeHost(dir, firecracker, bootTimeoutSeconds);
    }

    private FakeHost(Path dir, VmmDriver firecracker, int bootTimeoutSeconds) throws IOException {
        paths = new BangerPaths(dir.resolve("state"), dir.resolve("config"), dir.resolve("run"));
        Files.createDirectories(paths.stateDir());
        Files.createDirectories(paths.runtimeDir());
        db = Database.openReadWrite(paths.database());
        vmStore = new VmStore(db);
        ImageStore imageStore = new ImageStore(db);
        KernelStore kernelStore = new KernelStore(db);
        Clock clock = Clock.systemUTC();

        Path kernelDir = Files.createDirectories(paths.kernelsDir().resolve("k"));
        Path modules = Files.write(kernelDir.resolve("modules.cpio.gz"), new byte[0]);
        kernelStore.insert(new Kernel("k", new KernelArtifacts(FakeKernel.VERSION, KernelFormat.BZIMAGE,
                FakeKernel.write(kernelDir.resolve("vmlinuz")),
                firecracker == null ? null : elfKernel(kernelDir.resolve("vmlinux")), modules, List.of(),
                new KernelSource(KernelSource.Kind.FILE, "test")), true, clock.instant()));
        Path imageDir = Files.createDirectories(paths.imagesDir().resolve("img"));
        Path rootfs = FakeKernel.writeRootfs(imageDir.resolve("rootfs.ext4"));
        imageStore.insert(new Image("img", "register:test", null, rootfs, Files.size(rootfs), Map.of("LANG", "C"),
                null, List.of(), List.of(), clock.instant()));

        ip.when("ip", "-j", "link", "show").thenReturn("[{\"ifname\":\"present\"}]");
        ip.when("ip", "-j", "-4", "addr", "show").thenReturn("[]");
        vmm = new FakeVmm(Files.createDirectories(dir.resolve("vmm")));
        config = new DaemonConfig(null, 1, 256, 64L, bootTimeoutSeconds, null, "off", null, null, null);
        network = new HostNetwork(ip, config.networkConfig(), paths.natForwardingMarker());
        images = new ImageService(paths, imageStore, vmStore, new ProcessCommandRunner(), clock, null);
        kernels = new KernelService(paths, kernelStore, vmStore,
                new KernelImporter(new ProcessCommandRunner()), clock);
        dns = new VmDns(DnsRecords.inMemory(), HostResolverHook.forHost(new RecordingCommandRunner()),
                network.config().bridge(), Optional.empty());
        drivers = firecracker == null ? Map.of(VmmKind.QEMU, vmm)
                : Map.of(VmmKind.QEMU, vmm, VmmKind.FIRECRACKER, firecracker);
        running = new RunningVms(paths, vmStore, images, drivers);
        lifecycle = new VmLifecycle(paths, config, vmStore, images, kernels, running, network, programs,
                AgentProcess.binary(), clock, new GuestSsh(paths), dns);
    }

    /**
     * The VM services of the next daemon over the same state (store, VM dirs, handles.json), as after a
     * {@code kill -9} of this one: nothing carried over in memory. Its programs run through {@code runner}.
     */
    public VmLifecycle nextDaemon(RecordingCommandRunner runner) {
        return new VmLifecycle(paths, config, vmStore, images, kernels,
                new RunningVms(paths, vmStore, images, drivers), network, runner,
                AgentProcess.binary(), Clock.systemUTC(), new GuestSsh(paths), dns);
    }

    /** Creates and boots a VM with the defaults. */
    public VmView create(String name) {
        return lifecycle.create(new VmCreateRequest(name, null, null, null, null, null, null, false, false),
                Call.detached());
    }

    public Vm record(String name) {
        return vmStore.findByName(name).orElseThrow();
    }

    public String tap(String name) {
        return HostNetwork.tapName(record(name).id());
    }

    /** An x86-64 ELF header followed by zeros: all a Firecracker driver reads of a vmlinux. */
    private static Path elfKernel(Path file) throws IOException {
        byte[] b = new byte[4096];
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        b[4] = 2;
        b[5] = 1;
        b[18] = 62;
        return Files.write(file, b);
    }

    @Override
    public void close() throws InterruptedException {
        vmm.closeAll();
        db.close();
    }
}
