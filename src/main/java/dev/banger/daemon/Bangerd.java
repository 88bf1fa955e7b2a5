package dev.banger.daemon;

import dev.banger.config.BangerInstall;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.DnsRecords;
import dev.banger.dns.DnsServer;
import dev.banger.dns.GuestDns;
import dev.banger.dns.HostResolverHook;
import dev.banger.dns.VmDns;
import dev.banger.image.ImageService;
import dev.banger.image.bundle.ImageBundles;
import dev.banger.host.ClientFiles;
import dev.banger.host.CommandRunner;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.host.Executables;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImagePuller;
import dev.banger.image.layer.FlattenLimits;
import dev.banger.image.layer.StagingBudget;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.ImageSources;
import dev.banger.kernel.KernelImporter;
import dev.banger.kernel.KernelService;
import dev.banger.rpc.PeerPolicy;
import dev.banger.rpc.RpcServer;
import dev.banger.ssh.GuestSsh;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.model.VmmKind;
import dev.banger.session.SessionService;
import dev.banger.vm.VmConnect;
import dev.banger.vm.VmCopy;
import dev.banger.vm.VmExec;
import dev.banger.vm.VmPorts;
import dev.banger.vm.VmRun;
import dev.banger.workspace.WorkspaceService;
import dev.banger.vm.RunningVms;
import dev.banger.vm.VmLifecycle;
import dev.banger.vm.VmUsage;
import dev.banger.vmm.firecracker.FirecrackerDriver;
import dev.banger.vmm.qemu.QemuDriver;
import java.util.Map;
import java.util.Optional;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The banger daemon. Owns the state dir (one daemon per state dir, enforced by a lock), the store and the
 * services, and serves the CLI on a Unix socket until SIGTERM or {@code daemon.shutdown}.
 */
public final class Bangerd implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Bangerd.class);

    private final BangerPaths paths;
    private final DaemonLock lock;
    private final Database db;
    private final RpcServer server;
    private final DnsServer dnsServer;
    private final VmLifecycle vms;
    private final GuestDns guestDns;
    private final ImagePuller puller;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();

    private Bangerd(BangerPaths paths, DaemonLock lock, Database db, RpcServer server, DnsServer dnsServer,
                    VmLifecycle vms, GuestDns guestDns, ImagePuller puller) {
        this.paths = paths;
        this.lock = lock;
        this.db = db;
        this.server = server;
        this.dnsServer = dnsServer;
        this.vms = vms;
        this.guestDns = guestDns;
        this.puller = puller;
    }

    /**
     * Takes the state-dir lock, opens the store, builds the services and starts serving.
     *
     * @throws IllegalStateException when another daemon owns the state dir
     */
    public static Bangerd start(BangerPaths paths) throws IOException {
        return start(paths, Optional.empty());
    }

    /**
     * As {@link #start(BangerPaths)}, serving {@code listener} (a socket systemd or another supervisor bound at
     * {@link BangerPaths#socket()} and handed over) instead of binding the socket itself.
     */
    public static Bangerd start(BangerPaths paths, Optional<ServerSocketChannel> listener) throws IOException {
        // Fingerprinted before reading: if the file changes in between, it reads as changed, never the reverse.
        String configFingerprint = DaemonConfig.fingerprint(paths.configFile());
        DaemonConfig config = DaemonConfig.load(paths.configFile());
        Optional<InetSocketAddress> dnsAddress = config.dnsAddress();
        PeerPolicy peers = PeerPolicy.forCurrentUser(config.socketGroupName());
        createPrivateDir(paths.stateDir());
        createRuntimeDir(paths.runtimeDir(), peers.group());
        DaemonLock lock = DaemonLock.acquire(paths.daemonLock());
        Database db = null;
        GuestDns guestDns = null;
        try {
            db = Database.openReadWrite(paths.database());
            Clock clock = Clock.systemUTC();
            VmStore vmStore = new VmStore(db);
            ImageStore imageStore = new ImageStore(db);
            KernelStore kernelStore = new KernelStore(db);
            CommandRunner runner = new ProcessCommandRunner();
            ImagePuller puller = imagePuller(paths, config, runner);
            puller.removeLeftovers(); // Of a daemon killed mid-pull: no pull runs before the server starts.
            int copies = new ClientFiles(paths.clientInputsDir()).removeLeftovers(); // Likewise, mid-call.
            if (copies > 0) {
                log.info("removed {} copies of client inputs left by an earlier daemon", copies);
            }
            ImageService images = new ImageService(paths, imageStore, vmStore, runner, clock, puller);
            KernelService kernels = new KernelService(paths, kernelStore, vmStore, new KernelImporter(runner), clock);
            HostNetwork network = new HostNetwork(runner, config.networkConfig(), paths.natForwardingMarker());
            DnsRecords dnsRecords = DnsRecords.inMemory();
            if (network.config().guestDnsOnBridge()) {
                guestDns = GuestDns.forHost(dnsRecords, network.config());
                network.onBridgeUp(guestDns::bridgeUp);
            }
            VmDns vmDns = new VmDns(dnsRecords, HostResolverHook.forHost(runner), network.config().bridge(),
                    dnsAddress);
            RunningVms running = new RunningVms(paths, vmStore, images,
                    Map.of(VmmKind.QEMU, QemuDriver.forHost(runner, Optional.empty()),
                            VmmKind.FIRECRACKER, FirecrackerDriver.forHost()));
            GuestSsh guestSsh = new GuestSsh(paths);
            running.keepGuestsInStep(guestSsh, config.guestSyncPeriod());
            VmLifecycle vms = new VmLifecycle(paths, config, vmStore, images, kernels, running,
                    network, runner, BangerInstall.initBinary(), clock, guestSsh, vmDns);
            VmExec exec = new VmExec(running);
            VmRun run = new VmRun(vms, running, exec,
                    new WorkspaceService(runner, new ClientFiles(paths.clientInputsDir())));
            VmConnect connect = new VmConnect(running);
            SessionService sessions = new SessionService(running);
            vms.reconcile(); // Also fills the DNS records with the VMs it finds running.
            vms.watchVmms();
            DnsServer dnsServer = startDns(dnsAddress, dnsRecords);
            if (guestDns != null && Files.isDirectory(Path.of("/sys/class/net", network.config().bridge()))) {
                guestDns.bridgeUp(); // Running VMs were adopted: their resolver is the bridge address.
            }

            Bangerd[] self = new Bangerd[1];
            DaemonControl control = new DaemonControl(paths, clock, configFingerprint, () -> self[0].close());
            RpcServer server = new RpcServer(paths.socket(),
                    Dispatcher.handlers(control, vms, new VmUsage(running, network, runner), exec, run, connect,
                            new VmPorts(running), new VmCopy(running, config.copyOverNetwork()), sessions, images,
                            new ImageBundles(paths, images, kernels, clock), kernels),
                    peers);
            self[0] = new Bangerd(paths, lock, db, server, dnsServer, vms, guestDns, puller);
            if (listener.isPresent()) {
                server.start(listener.get());
            } else {
                server.start();
            }
            log.info("bangerd {} ready (pid {}, state {})", dev.banger.config.BuildInfo.version(),
                    ProcessHandle.current().pid(), paths.stateDir());
            return self[0];
        } catch (IOException | RuntimeException e) {
            if (guestDns != null) {
                guestDns.close();
            }
            if (db != null) {
                db.close();
            }
            lock.close();
            throw e;
        }
    }

    /** The image puller with the configured staging budget and layer bounds (docs/images.md, "Bounds"). */
    private static ImagePuller imagePuller(BangerPaths paths, DaemonConfig config, CommandRunner runner) {
        DaemonConfig.Images settings = config.imageSettings();
        Path scratch = paths.scratchDir().orElse(null);
        StagingBudget budget = StagingBudget.forDaemon(scratch, mib(settings.stagingTmpfsMib()),
                mib(settings.stagingDiskMib()), "images.stagingTmpfsMib / images.stagingDiskMib in "
                        + paths.configFile());
        FlattenLimits limits = settings.maxLayerExpansion() == null ? FlattenLimits.DEFAULT
                : FlattenLimits.DEFAULT.withExpansion(settings.maxLayerExpansion(),
                        FlattenLimits.DEFAULT_EXPANSION_FLOOR);
        return new ImagePuller(new ContentStore(paths.blobsDir()), paths.imageWorkDir(), scratch, budget, limits,
                runner, Executables.fromEnvironment(), ImageSources.newHttpClient());
    }

    private static Long mib(Long value) {
        return value == null ? null : value << 20;
    }

    /** The *.vm DNS server, or null when it is off or its address is taken (banger works without it). */
    private static DnsServer startDns(Optional<InetSocketAddress> address, DnsRecords records) {
        if (address.isEmpty()) {
            log.info("DNS for *.vm is off (dnsListen is 'off' in the config)");
            return null;
        }
        DnsServer dns = new DnsServer(address.get(), records);
        try {
            dns.start();
            return dns;
        } catch (IOException e) {
            log.warn("{}; NAME.vm will not resolve (ssh NAME.vm still works through banger ssh-config); "
                    + "set dnsListen in {} to a free address", e.getMessage(), "config.json");
            return null;
        }
    }

    /**
     * The listening Unix socket this process got as its standard input, as systemd passes it with
     * {@code StandardInput=socket} (bangerd.socket); empty when standard input is anything else (a terminal,
     * /dev/null from the CLI's launcher).
     *
     * @throws IllegalArgumentException when the socket is bound somewhere other than this daemon's socket path,
     *                                  where no CLI would look for it
     */
    static Optional<ServerSocketChannel> inheritedListener(BangerPaths paths) throws IOException {
        Channel inherited = System.inheritedChannel();
        if (!(inherited instanceof ServerSocketChannel listener)
                || !(listener.getLocalAddress() instanceof UnixDomainSocketAddress address)) {
            return Optional.empty();
        }
        Path bound = address.getPath().toAbsolutePath().normalize();
        if (!bound.equals(paths.socket())) {
            throw new IllegalArgumentException("the inherited socket is " + bound + " but this daemon's socket is "
                    + paths.socket() + "; set ListenStream=" + paths.socket() + " in bangerd.socket (or "
                    + BangerPaths.HOME_ENV + " to match)");
        }
        return Optional.of(listener);
    }

    /**
     * The runtime dir holds the socket: 0700, or with a socket group 0710 and that group, so its members can reach
     * the socket by name (not list the dir); the socket itself is then 0660 (RpcServer).
     */
    private static void createRuntimeDir(Path dir, Optional<GroupPrincipal> group) throws IOException {
        Files.createDirectories(dir);
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
        if (group.isPresent()) {
            view.setGroup(group.get());
            view.setPermissions(PosixFilePermissions.fromString("rwx--x---"));
        } else {
            view.setPermissions(PosixFilePermissions.fromString("rwx------"));
        }
    }

    private static void createPrivateDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    public BangerPaths paths() {
        return paths;
    }

    /** Blocks until the daemon has shut down. */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /** Stops serving, closes the store and releases the state-dir lock. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("shutting down");
        server.close();
        vms.close(); // Before the store closes: the VMM watcher writes to it.
        puller.removeLeftovers(); // A pull the server stopped waiting for leaves no staging tree (or /dev/shm dir).
        if (dnsServer != null) {
            dnsServer.close();
        }
        if (guestDns != null) {
            guestDns.close();
        }
        db.close();
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("releasing the state lock failed: {}", e.toString());
        }
        stopped.countDown();
    }

    /** Entry point of {@code bangerd}: runs in the foreground until SIGTERM/SIGINT or a shutdown request. */
    public static void main(String[] args) {
        BangerPaths paths = BangerPaths.fromEnvironment();
        try {
            Files.createDirectories(paths.logDir());
        } catch (IOException e) {
            System.err.println("bangerd: cannot create " + paths.logDir() + ": " + e.getMessage());
            System.exit(1);
        }
        DaemonLogging.toFile(paths.daemonLog());
        DaemonLogging.captureConsole(paths.daemonLog());
        // The hook goes in before start-up binds the socket: a SIGTERM that comes as soon as the socket exists
        // (a supervisor, a test) must still close the daemon, which removes the socket and releases the lock.
        // It waits for start-up to end (a signal during start-up would otherwise stop the JVM half way, the
        // socket bound) and closes whatever started.
        AtomicReference<Bangerd> started = new AtomicReference<>();
        CountDownLatch startUpEnded = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                startUpEnded.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Bangerd running = started.get();
            if (running != null) {
                running.close();
            }
        }, "sigterm"));
        Bangerd daemon = null;
        try {
            daemon = start(paths, inheritedListener(paths));
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("bangerd: " + e.getMessage());
            log.error("start-up refused: {}", e.getMessage());
        } catch (Exception e) {
            System.err.println("bangerd: start-up failed: " + e + " (see " + paths.daemonLog() + ")");
            log.error("start-up failed", e);
        } finally {
            started.set(daemon);
            startUpEnded.countDown(); // Before any System.exit: exit runs the hook, which waits for this.
        }
        if (daemon == null) {
            System.exit(1);
            return;
        }
        try {
            daemon.awaitShutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("bangerd stopped");
        System.exit(0);
    }
}
